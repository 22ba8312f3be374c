"""The follow-up area's SQL (services/followups, services/register_check): one named function per
statement or tight group, the caller's session first (see ``crm_tui.store.queries``).

    cards     staff and archive heads, cards, visits, queues, ownership claims
    register  front-desk register lines and the supervisor's daily register check
    stats     the weekly review, home counts, the customer's timeline, erasure

Dates and times come back as SQLite stores them (ISO text); the services parse them.
"""
