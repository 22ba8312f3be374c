from crm_tui.start import main

main()
