"""Spreadsheet import rules (issue 9): text encodings, header -> field mapping, cell values.

Pure: no files, no database. The service reads the file and hands bytes / cell values here.

* :func:`decode` turns CSV bytes into text: UTF-8 with BOM, UTF-8, else GB18030 (a superset of
  GBK and GB2312, what Chinese Excel writes as "CSV"), and names the encoding it found.
* :func:`auto_mapping` maps each header (Chinese or English, as branches write them) to an archive
  field; a mapping is ``{header: field}`` and is editable and saved by name for reuse.
* :func:`cell_text` turns an XLSX cell into what a person would have typed (phone numbers stored
  as numbers lose their ``.0``; dates become ``YYYY-MM-DD``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from crm_tui.i18n import N_

#: Fields an import can fill (besides the archive's own fields): the kind, up to three phones and
#: the customer's consent to keeping sensitive data (ID number, bank account, R-CUST-6).
EXTRA_FIELDS: dict[str, str] = {
    "kind": N_("Type"),
    "phone": N_("Phone"),
    "phone2": N_("Phone 2"),
    "phone3": N_("Phone 3"),
    "sensitive_consent": N_("Consent to sensitive data"),
    "ignore": N_("(not imported)"),
}
PHONE_FIELDS = ("phone", "phone2", "phone3")

_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名", "客户名称", "名称", "客户", "单位名称", "公司名称", "name", "customername", "customer",
             "fullname"),
    "kind": ("类型", "客户类型", "个人单位", "客户性质", "kind", "type", "customertype"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "移动电话", "电话1", "手机1", "phone",
              "mobile", "tel", "telephone", "phone1", "mobilephone", "cellphone"),
    "phone2": ("电话2", "手机2", "备用电话", "座机", "固定电话", "办公电话", "phone2", "landline", "officephone"),
    "phone3": ("电话3", "手机3", "其他电话", "phone3", "otherphone"),
    "contact_person": ("联系人", "contact", "contactperson"),
    "address": ("地址", "联系地址", "通讯地址", "住址", "address"),
    "postcode": ("邮编", "邮政编码", "postcode", "zip", "zipcode", "postalcode"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"),
    "gender": ("性别", "gender", "sex"),
    "birth_date": ("出生日期", "生日", "出生年月日", "birthdate", "birthday", "dateofbirth", "dob"),
    "occupation": ("职业", "occupation", "job"),
    "employer": ("工作单位", "单位", "任职单位", "employer", "company"),
    "family_notes": ("家庭背景", "家庭情况", "familynotes", "family"),
    "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "idnumber", "idcard", "id"),
    "legal_rep": ("法定代表人", "法人", "法人代表", "legalrep", "legalrepresentative"),
    "fax": ("传真", "fax"),
    "business_scope": ("经营范围", "businessscope"),
    "registered_capital": ("注册资本", "注册资金", "registeredcapital", "capital"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "uscc", "creditcode"),
    "key_decision_makers": ("关键决策人", "决策人", "keydecisionmakers"),
    "business_needs": ("业务需求", "需求", "businessneeds", "needs"),
    "cooperation_history": ("合作历史", "合作记录", "cooperationhistory"),
    "credit_status": ("信用状况", "creditstatus"),
    "category": ("分类", "客户分类", "类别", "category"),
    "industry": ("行业", "所属行业", "industry"),
    "size": ("规模", "企业规模", "size"),
    "coop_since": ("合作年份", "合作起始年份", "开始合作年份", "coopsince", "since"),
    "source": ("信息来源", "来源", "客户来源", "source"),
    "credit_rating": ("信用等级", "creditrating"),
    "risk_rating": ("风险等级", "riskrating"),
    "owner": ("负责人", "客户经理", "责任人", "归属人", "owner", "manager", "responsiblestaff"),
    "staff_contacts": ("其他联系人员", "联系员工", "staffcontacts"),
    "important": ("重要客户", "是否重要", "important"),
    "tags": ("标签", "tags", "tag"),
    "notes": ("备注", "说明", "notes", "note", "remarks", "remark"),
    "bank_name": ("开户行", "开户银行", "银行", "bankname", "bank"),
    "bank_account": ("银行账号", "账号", "银行卡号", "bankaccount", "account"),
    "sensitive_consent": ("敏感信息同意", "同意敏感信息", "同意", "sensitiveconsent", "consent"),
}
_LOOKUP = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
_STRIP = re.compile(r"[\s_\-·:：*＊()（）\[\]【】/]+")
_KIND_WORDS = {"个人": "person", "person": "person", "individual": "person", "私人": "person",
               "单位": "org", "企业": "org", "公司": "org", "org": "org", "organisation": "org",
               "organization": "org", "company": "org"}
_ORG_HINT = re.compile(r"(公司|集团|厂|店|中心|协会|银行|学校|医院|研究所|事务所|合作社|商行|工作室|有限)")
ENCODINGS = {"utf-8-sig": N_("UTF-8 with BOM"), "utf-8": N_("UTF-8"), "gb18030": N_("GBK/GB18030")}


def normalise_header(text: str) -> str:
    return _STRIP.sub("", (text or "").strip().casefold())


def field_for(header: str) -> str | None:
    return _LOOKUP.get(normalise_header(header))


def auto_mapping(headers: Sequence[str]) -> dict[str, str]:
    """{header: field} for the headers recognised; a field is taken by its first header only,
    and a second phone column goes to the next free phone field."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for h in headers:
        f = field_for(h)
        if f is None:
            continue
        if f in PHONE_FIELDS and f in taken:
            f = next((p for p in PHONE_FIELDS if p not in taken), f)
        if f in taken:
            continue
        out[h] = f
        taken.add(f)
    return out


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding code) for CSV bytes; raises UnicodeDecodeError when none fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def cell_text(value: object) -> str:
    """An XLSX cell as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else \
            value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def kind_of(value: str | None, name: str | None, values: Mapping[str, str]) -> str | None:
    """'person' / 'org' from a kind column, else guessed from the row; None when the column holds
    something unknown."""
    if value and value.strip():
        return _KIND_WORDS.get(value.strip().casefold())
    if values.get("uscc") or values.get("legal_rep") or values.get("business_scope"):
        return "org"
    return "org" if name and _ORG_HINT.search(name) else "person"


def is_yes(value: str | None) -> bool:
    return (value or "").strip().casefold() in {"1", "true", "yes", "y", "是", "t", "on", "同意", "已同意", "√"}


def check_mapping(mapping: Mapping[str, str], known_fields: Iterable[str]) -> list[str]:
    """Problems with a mapping: unknown fields, a field given twice, no name column."""
    known = set(known_fields) | set(EXTRA_FIELDS)
    problems = [f for f in mapping.values() if f not in known]
    used = [f for f in mapping.values() if f != "ignore"]
    problems += sorted({f for f in used if used.count(f) > 1})
    if "name" not in used:
        problems.append("name")
    return problems
