"""Entity kinds and person roles of the import format (DESIGN §4), with their Chinese labels."""

from __future__ import annotations

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
