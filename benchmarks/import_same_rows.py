"""Same rows before and after an import change (not part of the tests).

Imports a CSV of varied rows (persons and organisations, ID numbers with consent, USCCs,
landlines, phones typed every common way, bad numbers, tags, staff contacts, multi-line notes)
with a fixed clock into a new database and dumps every table the import writes; ``compare``
says whether two dumps hold the same rows (the audit hash chain aside: it starts from the first
administrator's real creation time). To check a change against an older tree::

    git archive <old-commit> | tar -x -C /tmp/old
    ROOT=/tmp/old .venv/bin/python benchmarks/import_same_rows.py dump /tmp/before.json 3000 2026-02-13T18:00
    .venv/bin/python benchmarks/import_same_rows.py dump /tmp/after.json 3000 2026-02-13T18:00
    .venv/bin/python benchmarks/import_same_rows.py compare /tmp/before.json /tmp/after.json
"""

import csv, io, json, os, random, shutil, sys, tempfile
from datetime import datetime
from pathlib import Path


def dump(argv):
    out = Path(argv[0]); n = int(argv[1]) if len(argv) > 1 else 3000
    clock = datetime.fromisoformat(argv[2]) if len(argv) > 2 else datetime(2026, 9, 28, 16, 30)
    work = Path(tempfile.mkdtemp(prefix="crm-same-rows-"))
    svc, admin = probe._import_db(work / "db")
    svc.clock = lambda: clock
    for u, d in (("jingli", "王建国"), ("kezhang", "李科长")):
        staff.add_user_with_password(svc, admin, u, ["customer_manager"], "Demo-pass-2026", d)
    rnd = random.Random(5)
    S = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏单欧阳司马诸葛曾解仇朴"
    G = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉梅建国志海燕红小子涵浩然欣怡宇轩雨梓萱俊乐长行重"
    H = ["客户名称", "类型", "手机", "座机", "电话3", "地址", "邮编", "邮箱", "性别", "出生日期", "身份证号码", "敏感信息同意",
         "标签", "备注", "统一社会信用代码", "法定代表人", "注册资本", "传真", "重要客户", "职业", "银行账号", "开户行", "负责人", "其他联系人员"]
    rows = []
    for i in range(n):
        org = rnd.random() < 0.2
        r = dict.fromkeys(H, "")
        mob = lambda: f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}"
        if org:
            r["客户名称"] = rnd.choice(["北京", "上海", "深圳", "成都"]) + "".join(rnd.choice(G) for _ in range(2)) + rnd.choice(["科技有限公司", "商行", "工作室"])
            r["类型"] = "单位"
            r["座机"] = rnd.choice(["010-6234", "021-5888", "0755-8888 ", "(028)8765"]) + f"{rnd.randrange(10000):04d}"
            if rnd.random() < 0.5:
                code = f"91{rnd.choice(['110','310','440'])}{rnd.randrange(1000):03d}{rnd.randrange(10**9):09d}"
                r["统一社会信用代码"] = code + uscc.calc_check_digit(code)
            r["法定代表人"] = rnd.choice(S) + rnd.choice(G)
            r["注册资本"] = rnd.choice(["", "100万", "500000", "1,000,000.50"]) if False else rnd.choice(["", "500000", "1000000.50"])
            r["传真"] = rnd.choice(["", "010-62345679"])
        else:
            r["客户名称"] = rnd.choice(S) + "".join(rnd.choice(G) for _ in range(rnd.choice((1, 2, 2, 3))))
            r["性别"] = rnd.choice(["男", "女", ""])
            r["职业"] = rnd.choice(["", "教师", "工程师"])
            if rnd.random() < 0.3:
                body = f"110101{rnd.randrange(1950, 2005)}{rnd.randrange(1, 13):02d}{rnd.randrange(1, 28):02d}{rnd.randrange(1000):03d}"
                r["身份证号码"] = body + ric.calc_check_digit(body + "0")
                r["敏感信息同意"] = "是"
                r["性别"] = ""
            if rnd.random() < 0.05:
                r["银行账号"] = f"6222{rnd.randrange(10**12):012d}"; r["开户行", "负责人", "其他联系人员"] = "工商银行"; r["敏感信息同意"] = "是"
        p = mob()
        r["手机"] = rnd.choice([p, p, p, f"{p[:3]} {p[3:7]} {p[7:]}", f"+86 {p}", f"{p[:3]}-{p[3:7]}-{p[7:]}",
                               p.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}), f"86{p}", f"0086{p}", ""])
        if rnd.random() < 0.1:
            r["电话3"] = mob()
        r["地址"] = rnd.choice(["", "北京市朝阳区建国路88号", "上海市浦东新区　世纪大道100号", " 深圳市南山区科技园  "])
        r["邮编"] = rnd.choice(["", "100020"])
        r["邮箱"] = rnd.choice(["", f"user{i}@Example.COM"])
        r["标签"] = rnd.choice(["", "老客户", "转介绍,老客户", "VIP"])
        r["备注"] = rnd.choice(["", "第一行\r\n第二行", "备注"])
        r["重要客户"] = rnd.choice(["", "是", "否"])
        r["负责人"] = rnd.choice(["", "jingli", "王建国", "admin"])
        r["其他联系人员"] = rnd.choice(["", "", "kezhang", "jingli,kezhang"])
        rows.append([r[h] for h in H])
    buf = io.StringIO(); w = csv.writer(buf); w.writerow(H); w.writerows(rows)
    f = work / "c.csv"; f.write_bytes(buf.getvalue().encode("gb18030"))
    table = importing.read_file(f)
    p = importing.plan(svc, admin, table)
    res = importing.run(svc, admin, p, backup=False, all_or_nothing=False)
    from collections import Counter; print(Counter((e.column, e.reason) for e in p.errors).most_common(12))
    dump = {"errors": [list(map(str, (e.row, e.column, e.reason))) for e in p.errors],
            "dups": [str(d) for d in p.duplicates], "imported": res.imported}
    raw = svc.store.engine.raw_connection()
    conn = raw.driver_connection
    for t in ("customer", "customer_phone", "customer_tag", "customer_staff", "customer_consent", "search_term",
              "audit_log", "audit_value", "customer_number_seq"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})").fetchall()]
        dump[t] = [cols, [list(map(repr, r)) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()]]
    raw.close(); svc.close()
    shutil.rmtree(work, ignore_errors=True)
    out.write_text(json.dumps(dump, ensure_ascii=False, indent=0))
    print("imported", res.imported, "errors", p.bad_rows, "dups", len(p.duplicates), {k: len(v[1]) for k, v in dump.items() if isinstance(v, list) and len(v) == 2 and isinstance(v[1], list)})


def compare(argv):
    a, b = (json.load(open(p)) for p in argv[:2])
    def norm(d):
        cols, rows = d["audit_log"]
        keep = [i for i, c in enumerate(cols) if c not in ("prev_hash", "hash")]
        d["audit_log"] = [[cols[i] for i in keep], [[r[i] for i in keep] if r[0] != "1" else [] for r in rows]]
        return d
    a, b = norm(a), norm(b)
    bad = 0
    for k in a:
        if a[k] != b.get(k):
            bad += 1
            print("DIFF", k)
            if isinstance(a[k], list) and len(a[k]) == 2:
                for ra, rb in zip(a[k][1], b[k][1]):
                    if ra != rb:
                        print(" ", ra[:12], "\n ", rb[:12]); break
                print("  lens", len(a[k][1]), len(b[k][1]))
    print("IDENTICAL" if not bad else f"{bad} tables differ")


if __name__ == "__main__":
    ROOT = os.environ.get("ROOT", str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, ROOT)
    sys.path.insert(0, ROOT + "/benchmarks")
    from stdnum.cn import ric, uscc  # noqa: E402

    from benchmarks import probe  # noqa: E402
    from crm_tui.services import importing, staff  # noqa: E402
    globals().update(ric=ric, uscc=uscc, probe=probe, importing=importing, staff=staff)
    {"dump": dump, "compare": compare}[sys.argv[1]](sys.argv[2:])
