"""Entity kinds and person roles of the import format (DESIGN §4), with their Chinese labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # profiles imports ENTITY_KINDS from here: the annotation only
    from .profiles import Profile

ENTITY_KINDS = {
    "company": "公司",
    "enterprise_legal_person": "非公司企业法人",
    "branch": "分支机构",
    "sole_proprietorship": "个人独资企业",
    "partnership": "合伙企业",
    "farmer_cooperative": "农民专业合作社",
    "individual_business": "个体工商户",
    "foreign_company_branch": "外国公司分支机构",
    "social_organization": "社会组织",
}

ROLES = {"legal_representative": "法定代表人", "agent": "经办人"}


def kind_not_eligible(profile: Profile, kind: str) -> str:
    """Why an entity of `kind` gets no report in the region (import and report time)."""
    eligible = "、".join(ENTITY_KINDS[k] for k in profile.entity_kinds)
    return (
        f"{profile.region_name}可开具报告的主体不含{ENTITY_KINDS.get(kind, kind)}（{kind}）；"
        f"本地区可开具的主体为：{eligible}。请核对主体类型，或到信用窗口咨询。"
    )
