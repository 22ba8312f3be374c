"""Backup, verify and import speed (issue 9). Not part of the tests.

    .venv/bin/python -m benchmarks.backup_import [N]      # default 100000 imported customers

Builds the demo database (2,000 customers) and times a backup and its verification; then imports N
generated customers from a GBK CSV into a fresh database (dry run and write timed apart) and times a
backup of that. Prints a Markdown block for benchmarks/results/backup.md.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from crm_tui import demo
from crm_tui.services import backup, importing, staff, system
from crm_tui.services.context import Actor
from crm_tui.store.keys import MemoryKeyStore

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅建国建华志强海燕红梅小红子涵浩然欣怡宇轩雨涵梓萱俊杰"


def _csv(n: int, path: Path) -> None:
    rnd = random.Random(9)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["客户名称", "手机", "地址", "性别", "负责人", "标签", "备注"])
    for i in range(n):
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        w.writerow([name, f"13{rnd.randrange(0, 10)}{i:08d}", f"北京市朝阳区建国路{rnd.randrange(1, 999)}号",
                    rnd.choice("男女"), "admin", rnd.choice(["", "老客户", "转介绍"]), ""])
    path.write_bytes(buf.getvalue().encode("gbk"))


def _mib(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    root = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    lines = [f"Measured {datetime.now():%Y-%m-%d %H:%M} on this machine ({'2 cores shared'})", ""]
    # demo database
    place = system.Place(root / "demo", MemoryKeyStore())
    place.data_dir.mkdir()
    system.create_empty(place)
    svc = system.open_services(place, demo=True)
    demo.seed(svc)
    t = time.perf_counter()
    info = backup.auto_backup(svc, "bench")
    t_backup = time.perf_counter() - t
    t = time.perf_counter()
    problems = backup.store.verify_backup(info, svc.store.key)  # type: ignore[arg-type]
    t_verify = time.perf_counter() - t
    customers = info.manifest["row_counts"]["customer"]
    lines.append(f"| demo DB ({customers} customers) | backup {t_backup:.2f} s | verify {t_verify:.2f} s | "
                 f"{_mib(info.manifest['size'])} | problems: {problems or 'none'} |")
    svc.close()
    # a large import
    place = system.Place(root / "big", MemoryKeyStore())
    place.data_dir.mkdir()
    system.create_empty(place)
    svc = system.open_services(place)
    sid = staff.create_first_admin(svc, "admin", "Boss-pass-2026", "管理员")
    admin = Actor(sid, "admin", "管理员", frozenset({"admin"}))
    path = root / "big.csv"
    _csv(n, path)
    t = time.perf_counter()
    table = importing.read_file(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    plan = importing.plan(svc, admin, table)
    t_plan = time.perf_counter() - t
    t = time.perf_counter()
    result = importing.run(svc, admin, plan, backup=False)
    t_run = time.perf_counter() - t
    lines.append(f"| import {n} rows GBK CSV ({_mib(path.stat().st_size)}) | read {t_read:.1f} s | dry run "
                 f"{t_plan:.1f} s ({n / t_plan:.0f} rows/s) | write {t_run:.1f} s ({result.imported / t_run:.0f} rows/s) "
                 f"| errors {plan.bad_rows}, duplicates {len(plan.duplicates)} |")
    t = time.perf_counter()
    info = backup.auto_backup(svc, "bench")
    t_backup = time.perf_counter() - t
    t = time.perf_counter()
    problems = backup.store.verify_backup(info, svc.store.key)  # type: ignore[arg-type]
    t_verify = time.perf_counter() - t
    lines.append(f"| {info.manifest['row_counts']['customer']} customers DB | backup {t_backup:.2f} s | verify "
                 f"{t_verify:.2f} s | {_mib(info.manifest['size'])} | problems: {problems or 'none'} |")
    svc.close()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
