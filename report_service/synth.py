"""Deterministic synthetic import data (entities, persons, records) for demos and tests.

`generate()` yields objects in the JSON Lines import format of DESIGN.md §4: all entities first,
then persons, then records. The same (region, domains, entities, seed) always gives the same
objects in the same order: all randomness comes from one `random.Random` seeded with
"region:seed" (so two regions seeded alike do not share codes or names), nothing reads the clock,
and no set or `hash()` order is ever iterated.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from report_service.ids import USCC_CHARSET, id_check_digit, uscc_check_char

ENTITY_KINDS = (
    "company",
    "enterprise_legal_person",
    "branch",
    "sole_proprietorship",
    "partnership",
    "farmer_cooperative",
    "individual_business",
    "foreign_company_branch",
    "social_organization",
)
RECORD_KINDS = (
    "administrative_penalty",
    "serious_dishonesty",
    "business_abnormality",
    "social_insurance_arrears",
    "housing_fund_arrears",
)
ROLES = ("legal_representative", "agent")

DATE_START = dt.date(2018, 1, 1)
DATE_END = dt.date(2026, 10, 31)
_HUZHOU_FLOOR = dt.date(2020, 5, 1)
_COMMON_FLOOR = dt.date(2021, 1, 1)

_ENTITY_WEIGHTS = {  # share of each kind after the first nine (one of each)
    "company": 40,
    "enterprise_legal_person": 4,
    "branch": 8,
    "sole_proprietorship": 6,
    "partnership": 5,
    "farmer_cooperative": 7,
    "individual_business": 21,
    "foreign_company_branch": 3,
    "social_organization": 6,
}
_RECORD_WEIGHTS = {
    "administrative_penalty": 52,
    "serious_dishonesty": 9,
    "business_abnormality": 15,
    "social_insurance_arrears": 13,
    "housing_fund_arrears": 11,
}
_USCC_PREFIX = {  # registration authority + organisation type (GB 32100-2015 table 2)
    "company": "91",
    "enterprise_legal_person": "91",
    "branch": "91",
    "sole_proprietorship": "91",
    "partnership": "91",
    "farmer_cooperative": "93",
    "individual_business": "92",
    "foreign_company_branch": "91",
    "social_organization": "51",  # 社会团体; 52 (社会服务机构) is chosen per name below
}

# --- geography -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    short: str  # 兰州
    full: str  # 兰州市
    abbr: str  # 兰, as in document numbers 兰市监罚〔2023〕1号
    code: str  # 620100
    counties: tuple[tuple[str, str], ...]  # (code, name)
    weight: int = 1


@dataclass(frozen=True)
class _Region:
    province_short: str
    province_full: str
    province_abbr: str
    province_code: str
    cities: tuple[_City, ...]
    industries: tuple[str, ...]  # local industries added to the common pool
    farm_products: tuple[str, ...]
    province_reg_share: float = 0.0  # companies registered at the province level (USCC 620000...)


_LANZHOU = _City(
    "兰州",
    "兰州市",
    "兰",
    "620100",
    (
        ("620102", "城关区"),
        ("620103", "七里河区"),
        ("620104", "西固区"),
        ("620105", "安宁区"),
        ("620111", "红古区"),
        ("620121", "永登县"),
        ("620122", "皋兰县"),
        ("620123", "榆中县"),
    ),
    weight=6,
)
_GANSU_CITIES = (
    _LANZHOU,
    _City("嘉峪关", "嘉峪关市", "嘉", "620200", (("620200", "嘉峪关市"),)),
    _City("金昌", "金昌市", "金", "620300", (("620302", "金川区"), ("620321", "永昌县"))),
    _City(
        "白银",
        "白银市",
        "白",
        "620400",
        (("620402", "白银区"), ("620403", "平川区"), ("620421", "靖远县"), ("620423", "景泰县")),
    ),
    _City(
        "天水",
        "天水市",
        "天",
        "620500",
        (("620502", "秦州区"), ("620503", "麦积区"), ("620522", "秦安县"), ("620523", "甘谷县")),
        weight=2,
    ),
    _City("武威", "武威市", "武", "620600", (("620602", "凉州区"), ("620621", "民勤县"))),
    _City(
        "张掖",
        "张掖市",
        "张",
        "620700",
        (("620702", "甘州区"), ("620723", "临泽县"), ("620724", "高台县"), ("620725", "山丹县")),
    ),
    _City("平凉", "平凉市", "平", "620800", (("620802", "崆峒区"), ("620826", "静宁县"))),
    _City(
        "酒泉",
        "酒泉市",
        "酒",
        "620900",
        (("620902", "肃州区"), ("620922", "瓜州县"), ("620981", "玉门市"), ("620982", "敦煌市")),
        weight=2,
    ),
    _City("庆阳", "庆阳市", "庆", "621000", (("621002", "西峰区"), ("621021", "庆城县"))),
    _City(
        "定西",
        "定西市",
        "定",
        "621100",
        (("621102", "安定区"), ("621122", "陇西县"), ("621124", "临洮县"), ("621126", "岷县")),
    ),
    _City("陇南", "陇南市", "陇", "621200", (("621202", "武都区"), ("621221", "成县"))),
)
_GANSU_INDUSTRIES = ("中药材", "有色金属", "石油化工", "马铃薯加工", "枸杞")
_GANSU_FARM = ("马铃薯种植", "中药材种植", "苹果种植", "肉牛养殖", "蔬菜种植", "百合种植")

_REGIONS: dict[str, _Region] = {
    "gansu": _Region(
        "甘肃",
        "甘肃省",
        "甘",
        "620000",
        _GANSU_CITIES,
        _GANSU_INDUSTRIES,
        _GANSU_FARM,
        province_reg_share=0.05,
    ),
    "lanzhou": _Region(
        "甘肃",
        "甘肃省",
        "甘",
        "620000",
        (_LANZHOU,),
        (*_GANSU_INDUSTRIES, "牛肉面餐饮"),
        _GANSU_FARM,
    ),
    "huzhou": _Region(
        "浙江",
        "浙江省",
        "浙",
        "330000",
        (
            _City(
                "湖州",
                "湖州市",
                "湖",
                "330500",
                (
                    ("330502", "吴兴区"),
                    ("330503", "南浔区"),
                    ("330521", "德清县"),
                    ("330522", "长兴县"),
                    ("330523", "安吉县"),
                ),
            ),
        ),
        ("丝绸", "竹木制品", "童装", "木地板", "电梯", "湖笔文化", "白茶"),
        ("白茶种植", "湖羊养殖", "竹笋种植", "水产养殖", "蔬菜种植", "蚕桑"),
    ),
    "wuhai": _Region(
        "内蒙古",
        "内蒙古自治区",
        "蒙",
        "150000",
        (
            _City(
                "乌海",
                "乌海市",
                "乌",
                "150300",
                (("150302", "海勃湾区"), ("150303", "海南区"), ("150304", "乌达区")),
            ),
        ),
        ("煤化工", "焦化", "氯碱化工", "硅铁", "葡萄酒", "煤炭运销"),
        ("葡萄种植", "蔬菜种植", "肉羊养殖", "奶牛养殖"),
    ),
    "heihe": _Region(
        "黑龙江",
        "黑龙江省",
        "黑",
        "230000",
        (
            _City(
                "黑河",
                "黑河市",
                "黑",
                "231100",
                (
                    ("231102", "爱辉区"),
                    ("231123", "逊克县"),
                    ("231124", "孙吴县"),
                    ("231181", "北安市"),
                    ("231182", "五大连池市"),
                    ("231183", "嫩江市"),
                ),
            ),
        ),
        ("对俄贸易", "木材加工", "大豆加工", "矿泉水", "冰雪旅游", "边境物流"),
        ("大豆种植", "玉米种植", "食用菌种植", "蓝莓种植", "肉牛养殖"),
    ),
}
_CUSTOMS = {
    "甘肃": "兰州海关",
    "浙江": "杭州海关",
    "内蒙古": "呼和浩特海关",
    "黑龙江": "哈尔滨海关",
}
_OTHER_PROVINCES = (
    "浙江",
    "福建",
    "河南",
    "四川",
    "湖南",
    "江西",
    "陕西",
    "山东",
    "安徽",
    "江苏",
    "广东",
)

# --- name pools ------------------------------------------------------------------------------

_BRAND_SYLLABLES = (
    "鑫泰恒信华瑞丰源达盛博宏润金安康德嘉合诚远昌兴通益正明辉新祥隆晟创卓汇联宇航天鼎豪利顺佳亿"
    "万永众百锦荣铭腾骏凯峰森宸弘茂沃拓"
)
_INDUSTRIES = (
    "商贸",
    "建筑工程",
    "物流",
    "餐饮管理",
    "农业科技",
    "信息技术",
    "食品",
    "机械设备",
    "新材料",
    "环保科技",
    "房地产开发",
    "医药",
    "文化传媒",
    "矿业",
    "化工",
    "旅游开发",
    "汽车销售服务",
    "电力工程",
    "物业管理",
    "建材",
    "劳务",
    "装饰工程",
    "网络科技",
    "能源",
)
_ELP_INDUSTRIES = ("机械", "建筑工程", "物资", "粮油", "印刷", "水泥", "纺织", "食品", "运输")
_SOLE_FORMS = (
    ("百货", "商行"),
    ("建材", "经营部"),
    ("五金", "加工厂"),
    ("企业管理", "咨询中心"),
    ("广告设计", "工作室"),
    ("农产品", "购销部"),
    ("汽车", "服务中心"),
    ("日用品", "批发部"),
)
_PARTNERSHIP_FIELDS = ("投资管理", "企业管理咨询", "股权投资", "创业投资", "商务咨询", "科技发展")
_SHOPS = (
    "便利店",
    "小吃店",
    "理发店",
    "五金店",
    "烟酒店",
    "汽车修理部",
    "早餐店",
    "服装店",
    "水果店",
    "日用百货店",
    "家电维修部",
    "副食店",
    "农资店",
    "干洗店",
    "图文打印店",
    "面馆",
)
_FOREIGN = (  # (country, trade names, line of business, legal form); made-up names only
    (
        "日本",
        (
            "丸山",
            "三和",
            "大和",
            "东洋",
            "松本",
            "山田",
            "高桥",
            "中村",
            "北辰",
            "协和",
            "昭和",
            "光洋",
        ),
        ("精机", "商事", "物产", "化学", "电机", "工业", "制作所", "食品"),
        "株式会社",
    ),
    (
        "韩国",
        ("大元", "新韩", "韩一", "东亚", "大林", "世宇", "泰光", "永进"),
        ("产业", "物产", "机械", "建设", "化学", "通商"),
        "株式会社",
    ),
    (
        "德国",
        ("施泰因", "克劳斯", "博尔特", "海德", "韦伯", "莱茵", "福格特", "席勒"),
        ("机械", "工业", "技术", "精密仪器", "环境技术", "汽车零部件"),
        "有限公司",
    ),
    (
        "美国",
        ("阿尔法", "联合", "太平洋", "格林", "哈德森", "威尔逊", "蓝岭", "北极星"),
        ("贸易", "技术", "农业", "医疗器械", "能源", "咨询"),
        "公司",
    ),
    (
        "俄罗斯",
        ("远东", "西伯利亚", "阿穆尔", "贝加尔", "伏尔加", "乌拉尔", "北方", "泽亚"),
        ("木材", "贸易", "能源", "农业", "矿业"),
        "有限责任公司",
    ),
    (
        "新加坡",
        ("丰隆", "华联", "南洋", "狮城", "星海", "长堤"),
        ("投资", "贸易", "物流", "资源", "工程"),
        "私人有限公司",
    ),
    (
        "法国",
        ("罗纳", "卢瓦尔", "阿尔卑", "普罗旺", "诺曼"),
        ("工业", "农业", "技术", "设备"),
        "股份有限公司",
    ),
)
_FOREIGN_SYLLABLES = "阿贝卡德伊尔斯特诺罗兰维克森曼格里奥拉尼塔莫"
_ASSOCIATION_TOPICS = (
    "物流",
    "餐饮",
    "建筑业",
    "软件",
    "食品工业",
    "旅游",
    "家政服务",
    "汽车流通",
    "个体劳动者",
    "中小企业",
    "电子商务",
    "装饰",
)
_SERVICE_INSTITUTIONS = ("职业技能培训学校", "养老院", "幼儿园", "社会工作服务中心", "康复中心")

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
    "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "皇甫", "慕容", "东方", "尉迟")
_MALE_GIVEN = "伟强磊军洋勇杰涛明超斌刚平辉鹏华飞鑫波宁海峰文俊浩宇晨建国志东林彬亮成龙"
_FEMALE_GIVEN = "芳娜敏静丽艳娟霞玲燕红英兰丹萍婷雪琳倩悦欣佳慧秀梅莉颖璐瑶晶"

# --- agencies, documents and titles per domain -----------------------------------------------


@dataclass(frozen=True)
class _Agency:
    keywords: tuple[str, ...]  # matched, in table order, against the domain's name
    city: str  # name template; {unit} is the city (兰州市) or the county office's place
    county: str | None  # the county office's template, None when there is no county office
    abbr: str  # in document numbers: 兰 + 市监 + 罚〔2023〕1号
    titles: tuple[str, ...] = ()


def _local_office(
    keywords: tuple[str, ...], suffix: str, abbr: str, titles: tuple[str, ...], county: bool = True
) -> _Agency:
    # the common shape: 兰州市市场监督管理局 and 兰州市城关区市场监督管理局
    return _Agency(keywords, "{unit}" + suffix, "{unit}" + suffix if county else None, abbr, titles)


_GENERIC_TITLES = (
    "未按规定办理行政许可变更手续",
    "未按规定报送有关材料",
    "违反行业管理规定从事经营活动",
    "未按要求履行整改义务",
)
_COURT = _Agency(
    ("法院", "执行"),
    "{city}中级人民法院",
    "{unit}人民法院",
    "执",
    ("拒不履行生效法律文书确定的义务",),
)
_AGENCIES = (
    _COURT,
    _local_office(
        ("公积金",), "住房公积金管理中心", "公积金", ("未按规定办理住房公积金缴存登记",), False
    ),
    _Agency(
        ("税务",),
        "国家税务总局{unit}税务局",
        "国家税务总局{unit}税务局",
        "税",
        ("未按照规定期限办理纳税申报和报送纳税资料", "未按规定开具发票", "未按规定保管账簿"),
    ),
    _Agency(
        ("消防",),
        "{unit}消防救援支队",
        "{unit}消防救援大队",
        "消",
        ("消防设施、器材未保持完好有效", "占用、堵塞疏散通道"),
    ),
    _Agency(
        ("海关",), "{customs}", None, "关", ("申报不实影响海关统计准确性", "未按规定办理报关手续")
    ),
    _Agency(("人民银行",), "中国人民银行{city}分行", None, "银", ("未按规定履行反洗钱义务",)),
    _local_office(
        ("地方金融", "金融工作"), "地方金融管理局", "金融", ("违规开展融资担保业务",), False
    ),
    _Agency(
        ("金融", "银行", "银保", "保险", "证券"),
        "国家金融监督管理总局{short}监管分局",
        None,
        "金",
        ("未按规定报送监管数据", "违规发放贷款"),
    ),
    _Agency(("通信",), "{province}通信管理局", None, "通信", ("未按规定办理电信业务经营许可变更",)),
    _Agency(
        ("供电", "电力"),
        "国网{province}电力有限公司{short}供电公司",
        None,
        "电",
        ("窃电", "违约用电"),
    ),
    _local_office(("邮政", "快递"), "邮政管理局", "邮", ("未按规定实行收寄验视",), False),
    _local_office(("档案",), "档案馆", "档", ("未按规定移交档案",), False),
    _local_office(("能源",), "能源局", "能源", ("未按规定报送能源统计数据",), False),
    _local_office(("广电", "广播电视"), "文化广电和旅游局", "文广旅", ("擅自设立广播电视站",)),
    _local_office(("发展改革", "发改"), "发展和改革委员会", "发改", ("未按规定执行政府定价",)),
    _local_office(("教育",), "教育局", "教", ("未经批准擅自举办校外培训",)),
    _local_office(("科技",), "科学技术局", "科", ("未按规定使用科技项目资金",)),
    _local_office(
        ("经济信息化", "经济和信息化", "经信"), "经济和信息化局", "经信", ("未按规定淘汰落后产能",)
    ),
    _local_office(
        ("工业和信息化", "工信"), "工业和信息化局", "工信", ("未按规定淘汰落后生产设备",)
    ),
    _local_office(("民族宗教",), "民族宗教事务委员会", "民宗", ("违反清真食品管理规定",)),
    _local_office(("公安",), "公安局", "公", ("未按规定登记旅客住宿信息", "未落实治安保卫责任")),
    _local_office(("民政",), "民政局", "民", ("未按规定报送年度工作报告",)),
    _local_office(("司法",), "司法局", "司", ("未按规定执业",)),
    _local_office(("财政",), "财政局", "财", ("政府采购中提供虚假材料", "会计账簿设置不规范")),
    _local_office(
        ("人力资源", "人力社保", "社会保障", "社保"),
        "人力资源和社会保障局",
        "人社",
        ("未按规定支付劳动者工资", "违反工作时间和休息休假规定", "未依法订立书面劳动合同"),
    ),
    _local_office(
        ("自然资源",),
        "自然资源局",
        "自然资源",
        ("未经批准非法占用土地", "未取得采矿许可证擅自采矿"),
    ),
    _local_office(
        ("生态环境", "环境保护", "环保"),
        "生态环境局",
        "环",
        ("超标排放大气污染物", "未依法进行环境影响评价", "危险废物贮存不规范"),
    ),
    _local_office(
        ("住房和城乡建设", "住房城乡建设", "住建", "建设", "物业", "房地产"),
        "住房和城乡建设局",
        "建",
        ("未取得施工许可证擅自施工", "施工现场扬尘防治措施不到位", "未按规定办理竣工验收备案"),
    ),
    _local_office(
        ("交通",),
        "交通运输局",
        "交",
        ("道路运输车辆未按规定进行年度审验", "未取得道路运输经营许可擅自从事经营"),
    ),
    _local_office(("水利", "水务"), "水务局", "水", ("未经批准擅自取水",)),
    _local_office(
        ("农业", "农村"), "农业农村局", "农", ("经营假劣农药", "未按规定建立农药经营台账")
    ),
    _local_office(("商务", "商贸"), "商务局", "商", ("单用途预付卡未按规定备案",)),
    _local_office(
        ("文化", "旅游", "文物"),
        "文化和旅游局",
        "文旅",
        ("擅自从事互联网上网服务经营活动", "旅行社未与旅游者签订合同"),
    ),
    _local_office(
        ("卫生", "健康"),
        "卫生健康委员会",
        "卫健",
        ("公共场所卫生许可证过期", "从业人员未取得健康合格证明"),
    ),
    _local_office(("退役军人",), "退役军人事务局", "退役", ("未按规定落实退役军人安置政策",)),
    _local_office(
        ("安全生产", "应急"),
        "应急管理局",
        "应急",
        ("未按规定开展安全生产教育和培训", "未建立事故隐患排查治理制度"),
    ),
    _local_office(("审计",), "审计局", "审", ("拒绝提供审计所需资料",)),
    _local_office(
        ("林业", "草原"), "林业和草原局", "林草", ("滥伐林木", "未经批准擅自改变林地用途")
    ),
    _local_office(("知识产权",), "知识产权局", "知", ("假冒专利",)),
    _local_office(
        ("市场监管", "市场监督", "工商", "质量", "食品", "药品"),
        "市场监督管理局",
        "市监",
        (
            "销售不符合食品安全标准的食品",
            "发布虚假广告",
            "使用未经检验的特种设备",
            "销售过期食品",
            "计量器具未按规定检定",
        ),
    ),
    _local_office(("体育",), "体育局", "体", ("高危险性体育项目未经许可经营",)),
    _local_office(("统计",), "统计局", "统", ("提供不真实统计资料",)),
    _local_office(
        ("人防", "人民防空"), "人民防空办公室", "人防", ("擅自改变人民防空工程主体结构",)
    ),
    _local_office(("医疗保障", "医保"), "医疗保障局", "医保", ("违规结算医疗保障基金",)),
    _local_office(("粮食", "物资储备"), "粮食和物资储备局", "粮", ("未按规定建立粮食经营台账",)),
    _local_office(
        ("城管", "城市管理", "综合执法", "园林", "绿化"),
        "城市管理综合行政执法局",
        "城管",
        ("擅自设置户外广告设施", "占道经营", "擅自占用城市绿地"),
    ),
    _local_office(("气象",), "气象局", "气", ("未按规定安装雷电防护装置",)),
    _local_office(("地震",), "地震局", "震", ("未按规定进行地震安全性评价",)),
    _local_office(("烟草",), "烟草专卖局", "烟", ("无烟草专卖零售许可证经营烟草制品",)),
)
_FALLBACK_AGENCY = _Agency((), "{city}{name}主管部门", None, "政", _GENERIC_TITLES)

_KIND_TITLES = {
    "business_abnormality": (
        "未按规定公示年度报告",
        "通过登记的住所或者经营场所无法联系",
        "公示企业信息隐瞒真实情况、弄虚作假",
        "未在责令的期限内公示有关企业信息",
    ),
    "social_insurance_arrears": (
        "欠缴社会保险费",
        "未按时足额缴纳职工基本养老保险费",
        "欠缴工伤保险费",
        "未按规定缴纳失业保险费",
    ),
    "housing_fund_arrears": (
        "欠缴住房公积金",
        "未按时足额缴存住房公积金",
        "未为职工办理住房公积金缴存",
    ),
}
_DOC_WORD = {  # the kind-specific word in a document number
    "serious_dishonesty": "失信",
    "business_abnormality": "异",
    "social_insurance_arrears": "稽",
    "housing_fund_arrears": "催",
}
_MARKET_WORDS = ("市场监管", "市场监督", "工商")  # where business-abnormality lists live
_KIND_AGENCY_HINT = {
    "business_abnormality": "市场监管",
    "social_insurance_arrears": "人力资源和社会保障",
    "housing_fund_arrears": "公积金",
}
_ARREARS_DOMAIN_WORDS = {
    "social_insurance_arrears": ("人力资源", "人力社保", "社会保障", "社保", "社会保险"),
    "housing_fund_arrears": ("公积金",),
}


@dataclass(frozen=True)
class _Entity:
    uscc: str
    name: str
    kind: str
    city: _City
    county: tuple[str, str]


# --- public helpers --------------------------------------------------------------------------


def make_uscc(rng: random.Random, prefix2: str, division: str) -> str:
    """A valid USCC: prefix2 + division + organisation code (GB 11714 check) + check char."""
    if len(prefix2) != 2 or len(division) != 6 or not division.isascii() or not division.isdigit():
        raise ValueError("prefix2 must be 2 characters and division 6 ASCII digits")
    if prefix2[0] == "5":  # civil-affairs organisation codes commonly start with 5
        body = "5" + "".join(rng.choice("0123456789") for _ in range(7))
    elif rng.random() < 0.6:  # codes issued since 2015 are mostly MA + 6 characters
        body = "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = prefix2 + division + body + _org_code_check(body)
    return first17 + uscc_check_char(first17)


def make_id_number(rng: random.Random, division: str, birth: dt.date, sex: int) -> str:
    """A valid 18-digit ID number; sex 1 = male (odd 17th digit), 2 = female (even)."""
    if len(division) != 6 or not division.isascii() or not division.isdigit():
        raise ValueError("division must be 6 ASCII digits")
    if sex not in (1, 2):
        raise ValueError("sex must be 1 (male) or 2 (female)")
    order = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == 1 else (0, 2, 4, 6, 8))
    first17 = f"{division}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_digit(first17)


GENERIC_LIST_NAME = "严重失信主体名单"


def generate(
    region: str,
    domains: Sequence[Mapping[str, Any]],
    entities: int,
    seed: int,
    kinds_in_data_scope: bool = True,
    records: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield import objects: `entities` entities, about 0.8x as many persons, then their records.

    `records` aims the record total at about that many by scaling every entity's record count;
    None keeps the natural mix (about 3.3 records per entity) and the exact default output.

    With `kinds_in_data_scope` a record only goes to a domain whose `data_scope` lists its kind;
    without it penalties may land in any domain and arrears in a domain that collects them, else
    one named for them (人力资源和社会保障, 公积金), else any. Serious-dishonesty records
    always need a domain with `lists`; business-abnormality records a domain that collects them
    or, failing that, a market-regulation domain. A kind no domain can take is left out.
    """
    if region not in _REGIONS:
        raise ValueError(f"unknown region {region!r}; expected one of {', '.join(_REGIONS)}")
    if entities < 0:
        raise ValueError("entities must be >= 0")
    if records is not None and records < 0:
        raise ValueError("records must be >= 0")
    rng = random.Random(f"{region}:{seed}")  # str seeds go through SHA-512: stable across runs
    reg = _REGIONS[region]
    ents = _make_entities(rng, reg, entities)
    for e in ents:
        yield {"type": "entity", "uscc": e.uscc, "name": e.name, "kind": e.kind, "region": region}
    yield from _make_persons(rng, reg, ents)
    yield from _make_records(rng, reg, ents, list(domains), kinds_in_data_scope, records)


# --- entities --------------------------------------------------------------------------------


def _org_code_check(body: str) -> str:
    # GB 11714: weights 3,7,9,10,5,8,4,2 over values 0-9/A-Z(10-35); 10 -> X, 11 -> 0
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _brand(rng: random.Random, length: int = 2, syllables: str = _BRAND_SYLLABLES) -> str:
    return "".join(rng.sample(syllables, length))


def _local(city: _City, county: str) -> str:
    # 兰州市城关区, but a county-level city stands alone: 北安市, 嘉峪关市
    return county if county.endswith("市") else city.full + county


def _place_short(county_name: str) -> str:
    # 城关区 -> 城关, 五大连池市 -> 五大连池; a one-character stem keeps its suffix (成县, 岷县)
    return county_name[:-1] if len(county_name) > 2 else county_name


def _entity_name(
    rng: random.Random, reg: _Region, kind: str, city: _City, county: str, brand_len: int
) -> tuple[str, str]:
    """(name, USCC prefix) for one entity of `kind` registered in `city`/`county`."""
    brand = _brand(rng, brand_len)
    industry = rng.choice(_INDUSTRIES + reg.industries)
    prefix = _USCC_PREFIX[kind]
    if kind == "company":
        form = rng.choices(("有限公司", "有限责任公司", "股份有限公司"), weights=(70, 15, 15))[0]
        if rng.random() < 0.15:
            return f"{brand}（{city.short}）{industry}{form}", prefix
        return f"{city.short}{brand}{industry}{form}", prefix
    if kind == "enterprise_legal_person":
        form = rng.choice(("厂", "总公司", "公司"))
        return f"{city.full}{brand}{rng.choice(_ELP_INDUSTRIES)}{form}", prefix
    if kind == "branch":
        if rng.random() < 0.5 or _place_short(county) == city.short:
            parent, place = reg.province_short, city.short
        else:
            parent, place = city.short, _place_short(county)
        form = rng.choice(("有限公司", "股份有限公司"))
        return f"{parent}{brand}{industry}{form}{place}分公司", prefix
    if kind == "sole_proprietorship":
        trade, form = rng.choice(_SOLE_FORMS)
        tail = rng.choice(("", "（个人独资）"))
        return f"{_local(city, county)}{brand}{trade}{form}{tail}", prefix
    if kind == "partnership":
        r = rng.random()
        if r < 0.1:
            return f"{reg.province_short}{brand}会计师事务所（普通合伙）", prefix
        form = "（有限合伙）" if r < 0.7 else "（普通合伙）"
        return f"{city.short}{brand}{rng.choice(_PARTNERSHIP_FIELDS)}合伙企业{form}", prefix
    if kind == "farmer_cooperative":
        form = rng.choices(("农民专业合作社", "专业合作社"), weights=(70, 30))[0]
        return f"{county}{brand}{rng.choice(reg.farm_products)}{form}", prefix
    if kind == "individual_business":
        return f"{_local(city, county)}{brand}{rng.choice(_SHOPS)}", prefix
    if kind == "foreign_company_branch":
        country, names, trades, form = rng.choice(_FOREIGN)
        # a branch (分公司), never a representative office (代表处, not a 外国公司分支机构);
        # the draw that once chose between them stays, so each seed's data set is unchanged
        rng.random()
        # the short pool runs out in large data sets: then a transliterated three-syllable name
        trade_name = rng.choice(names) if brand_len == 2 else _brand(rng, 3, _FOREIGN_SYLLABLES)
        return f"{country}{trade_name}{rng.choice(trades)}{form}{city.short}分公司", prefix
    # social_organization: 社会团体 (51) or 社会服务机构 (52)
    r = rng.random()
    if r < 0.35:
        return f"{city.full}{rng.choice(_ASSOCIATION_TOPICS)}行业协会", "51"
    if r < 0.55:
        others = [p for p in _OTHER_PROVINCES if p != reg.province_short]
        return f"{city.full}{rng.choice(others)}商会", "51"
    if r < 0.7:
        return f"{_local(city, county)}{rng.choice(_ASSOCIATION_TOPICS)}协会", "51"
    return f"{_local(city, county)}{brand}{rng.choice(_SERVICE_INSTITUTIONS)}", "52"


def _make_entities(rng: random.Random, reg: _Region, n: int) -> list[_Entity]:
    kinds = list(ENTITY_KINDS)
    rng.shuffle(kinds)  # one of each kind first, so small data sets still cover all nine
    kinds = kinds[:n] + [_weighted(rng, _ENTITY_WEIGHTS) for _ in range(n - len(kinds))]
    city_weights = [c.weight for c in reg.cities]
    names: set[str] = set()  # membership only, never iterated
    usccs: set[str] = set()
    out: list[_Entity] = []
    for kind in kinds:
        city = rng.choices(reg.cities, weights=city_weights)[0]
        county = rng.choice(city.counties)
        for attempt in range(200):
            name, prefix = _entity_name(rng, reg, kind, city, county[1], 2 if attempt < 20 else 3)
            if name not in names:
                break
        else:
            raise RuntimeError(f"could not find a unique name for a {kind}")
        names.add(name)
        division = _registration_division(rng, reg, kind, city, county[0])
        uscc = make_uscc(rng, prefix, division)
        while uscc in usccs:
            uscc = make_uscc(rng, prefix, division)
        usccs.add(uscc)
        out.append(_Entity(uscc, name, kind, city, county))
    return out


def _registration_division(
    rng: random.Random, reg: _Region, kind: str, city: _City, county_code: str
) -> str:
    # companies register at province, city or county level; small businesses at the county
    if kind in ("individual_business", "farmer_cooperative", "sole_proprietorship"):
        return county_code
    if kind == "company" and rng.random() < reg.province_reg_share:
        return reg.province_code
    return city.code if rng.random() < 0.5 else county_code


# --- persons ---------------------------------------------------------------------------------


def _person_name(rng: random.Random, sex: int) -> str:
    surname = rng.choice(_COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(_SURNAMES)
    pool = _MALE_GIVEN if sex == 1 else _FEMALE_GIVEN
    given = rng.choice(pool) if rng.random() < 0.3 else "".join(rng.choices(pool, k=2))
    return surname + given


def _make_persons(rng: random.Random, reg: _Region, ents: list[_Entity]) -> list[dict[str, Any]]:
    n_ent = len(ents)
    n_persons = max(1, round(n_ent * 0.8)) if n_ent else 0
    roles: list[list[tuple[int, str]]] = [[] for _ in range(n_persons)]  # (entity index, role)
    order = list(range(n_ent))
    rng.shuffle(order)
    # every person represents one entity; the remaining entities go to a pool of people
    # who represent 2-4 (as in real life: one owner, several businesses)
    for p, e in enumerate(order[:n_persons]):
        roles[p].append((e, "legal_representative"))
    rest = order[n_persons:]
    pool = rng.sample(range(n_persons), min(n_persons, max(1, -(-len(rest) // 2)))) if rest else []
    for e in rest:
        if not pool:  # everyone in the pool holds 4 roles: widen it
            pool = [p for p in range(n_persons) if len(roles[p]) < 4]
        i = rng.randrange(len(pool))
        roles[pool[i]].append((e, "legal_representative"))
        if len(roles[pool[i]]) >= 4:
            pool[i] = pool[-1]  # swap-remove: O(1) and still deterministic
            pool.pop()
    # about a quarter of entities also authorise an agent
    for e in range(n_ent):
        if n_persons < 2 or rng.random() >= 0.25:
            continue
        for _ in range(5):
            p = rng.randrange(n_persons)
            if len(roles[p]) < 4 and all(held != e for held, _ in roles[p]):
                roles[p].append((e, "agent"))
                break
    counties = [c[0] for city in reg.cities for c in city.counties]
    ids: set[str] = set()
    people: list[dict[str, Any]] = []
    span = (dt.date(2000, 12, 31) - dt.date(1960, 1, 1)).days
    for held in roles:
        sex = rng.choice((1, 2))
        name = _person_name(rng, sex)
        while True:
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, span))
            id_number = make_id_number(rng, rng.choice(counties), birth, sex)
            if id_number not in ids:
                break
        ids.add(id_number)
        people.append(
            {
                "type": "person",
                "id_number": id_number,
                "name": name,
                "roles": [{"uscc": ents[e].uscc, "role": r} for e, r in sorted(held)],
            }
        )
    return people


# --- records ---------------------------------------------------------------------------------


def _agency_for(domain_name: str) -> _Agency:
    for agency in _AGENCIES:
        if any(k in domain_name for k in agency.keywords):
            return agency
    return _FALLBACK_AGENCY


def _candidates(
    domains: list[Mapping[str, Any]], kind: str, in_scope: bool
) -> list[Mapping[str, Any]]:
    scoped = [d for d in domains if kind in (d.get("data_scope") or ())]
    if kind == "serious_dishonesty":
        listed = [d for d in (scoped if in_scope else domains) if d.get("lists")]
        # a region whose seed names no list still gets entries, under a generic list name
        return listed if listed or in_scope else list(domains)
    if kind == "business_abnormality":
        market = [d for d in domains if any(w in str(d.get("name", "")) for w in _MARKET_WORDS)]
        return scoped or market
    if in_scope:
        return scoped
    if kind not in _ARREARS_DOMAIN_WORDS:
        return list(domains)
    # out of scope, arrears still prefer the domain that naturally owns them
    hints = _ARREARS_DOMAIN_WORDS[kind]
    hinted = [d for d in domains if any(w in str(d.get("name", "")) for w in hints)]
    return scoped or hinted or domains


def _rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# Cases forced onto the first record of successive entities with records, so that every
# record kind and every exclusion/window case exists even in a small data set.
_SCENARIOS: tuple[dict[str, Any], ...] = (
    {"kind": "administrative_penalty"},
    {"kind": "serious_dishonesty"},
    {"kind": "business_abnormality"},
    {"kind": "social_insurance_arrears"},
    {"kind": "housing_fund_arrears"},
    {"kind": "administrative_penalty", "procedure": "simple", "window": "late"},
    {"kind": "administrative_penalty", "decision": "no_punishment", "window": "late"},
    {"kind": "administrative_penalty", "repaired": True, "window": "late"},
    {"kind": "administrative_penalty", "classified": True, "window": "late"},
    {"kind": "administrative_penalty", "window": "early"},
    {"kind": "administrative_penalty", "window": "mid"},
    {"kind": "administrative_penalty", "window": "late"},
)
_WINDOWS = {
    "early": (DATE_START, _HUZHOU_FLOOR - dt.timedelta(days=1)),
    "mid": (_HUZHOU_FLOOR, _COMMON_FLOOR - dt.timedelta(days=1)),
    "late": (_COMMON_FLOOR, DATE_END),
}


def _make_records(
    rng: random.Random,
    reg: _Region,
    ents: list[_Entity],
    domains: list[Mapping[str, Any]],
    in_scope: bool,
    target: int | None = None,
) -> Iterator[dict[str, Any]]:
    cands = {k: _candidates(domains, k, in_scope) for k in RECORD_KINDS}
    available = [k for k in RECORD_KINDS if cands[k]]
    if not ents or not available:
        return
    clean = set(rng.sample(range(len(ents)), round(len(ents) * 0.4)))  # membership only
    pending = [s for s in _SCENARIOS if s["kind"] in available]
    counts = list(range(1, 21))
    count_weights = [1 / k for k in counts]  # mostly a few records, sometimes many
    scale = _count_scale(target, len(ents) - len(clean), counts, count_weights)
    record_ids: set[str] = set()
    dirty: list[tuple[_Entity, int]] = []
    for i, ent in enumerate(ents):
        if i in clean:
            continue
        kinds = [
            k
            for k in available
            if not (k == "business_abnormality" and ent.kind == "social_organization")
        ]
        if not kinds:
            continue
        n = rng.choices(counts, weights=count_weights)[0]
        if scale is not None:  # no extra draws: the same seed keeps the same entities and kinds
            n = max(0, round(n * scale))
        specs: list[dict[str, Any]] = []
        for j in range(n):
            forced = next((s for s in pending if s["kind"] in kinds), None) if j == 0 else None
            if forced is not None:
                pending.remove(forced)
                specs.append(forced)
            else:
                specs.append(
                    {"kind": rng.choices(kinds, weights=[_RECORD_WEIGHTS[k] for k in kinds])[0]}
                )
        if specs:
            dirty.append((ent, len(specs)))
        yield from _records_for(rng, reg, ent, specs, cands, record_ids)
    # A small data set may run out of dirty entities before every case is placed: the rest
    # come last, so larger sets are as before.
    held = {id(e): n for e, n in dirty}
    for spec in pending:  # dirty entities first, so clean ones stay clean where possible
        ent = next(
            (e for e in [*reversed([e for e, _ in dirty]), *reversed(ents)]
             if held.get(id(e), 0) < counts[-1]
             and not (spec["kind"] == "business_abnormality" and e.kind == "social_organization")),
            None,
        )  # fmt: skip
        if ent is not None:
            held[id(ent)] = held.get(id(ent), 0) + 1
            yield from _records_for(rng, reg, ent, [spec], cands, record_ids)


def _records_for(
    rng: random.Random,
    reg: _Region,
    ent: _Entity,
    specs: list[dict[str, Any]],
    cands: Mapping[str, Sequence[Mapping[str, Any]]],
    record_ids: set[str],
) -> Iterator[dict[str, Any]]:
    records = [_make_record(rng, reg, ent, rng.choice(cands[s["kind"]]), s) for s in specs]
    records.sort(key=lambda r: r["date"])
    for rec in records:
        rid = "R" + "".join(rng.choice("0123456789") for _ in range(10))
        while rid in record_ids:
            rid = "R" + "".join(rng.choice("0123456789") for _ in range(10))
        record_ids.add(rid)
        yield {"type": "record", "record_id": rid, **rec}


def _count_scale(
    target: int | None, active: int, counts: Sequence[int], weights: Sequence[float]
) -> float | None:
    """Factor on each entity's drawn record count so that the expected total is `target`."""
    if target is None:
        return None
    mean = sum(c * w for c, w in zip(counts, weights, strict=True)) / sum(weights)
    return target / (active * mean) if active else 0.0


def _make_record(
    rng: random.Random,
    reg: _Region,
    ent: _Entity,
    domain: Mapping[str, Any],
    spec: Mapping[str, Any],
) -> dict[str, Any]:
    kind = spec["kind"]
    penalty = kind == "administrative_penalty"
    procedure, decision, repaired = "general", "punish", False
    if penalty:
        if "procedure" in spec or "decision" in spec or "repaired" in spec:
            procedure = spec.get("procedure", "general")
            decision = spec.get("decision", "punish")
            repaired = bool(spec.get("repaired"))
        else:
            r = rng.random()
            procedure = "simple" if r < 0.15 else "general"
            decision = "no_punishment" if 0.15 <= r < 0.25 else "punish"
            repaired = r >= 0.25 and rng.random() < 0.135  # ~10% of all penalties
    start, end = _WINDOWS[spec["window"]] if "window" in spec else (DATE_START, DATE_END)
    if repaired:  # leave room for a repair date after the decision
        end = min(end, DATE_END - dt.timedelta(days=90))
    date = _rand_date(rng, start, end)
    repaired_on = (
        _rand_date(rng, date + dt.timedelta(days=90), min(date + dt.timedelta(days=720), DATE_END))
        if repaired
        else None
    )
    list_name = (
        rng.choice(list(domain.get("lists") or [GENERIC_LIST_NAME]))
        if kind == "serious_dishonesty"
        else None
    )
    agency, doc_no, titles = _agency_document(
        rng, reg, ent, domain, kind, date, decision, list_name
    )
    if kind == "serious_dishonesty":
        title = f"列入{list_name}"
    elif kind in _KIND_TITLES:
        title = rng.choice(_KIND_TITLES[kind])
    else:
        title = rng.choice(titles)
    rec: dict[str, Any] = {
        "uscc": ent.uscc,
        "domain": domain["code"],
        "kind": kind,
        "date": date.isoformat(),
        "agency": agency,
        "document_no": doc_no,
        "title": title,
    }
    if penalty:
        rec["procedure"] = procedure
        rec["decision"] = decision
    rec["repaired_on"] = repaired_on.isoformat() if repaired_on else None
    if list_name is not None:
        rec["list_name"] = list_name
    rec["classified"] = bool(spec.get("classified")) or rng.random() < 0.03
    return rec


def _agency_document(
    rng: random.Random,
    reg: _Region,
    ent: _Entity,
    domain: Mapping[str, Any],
    kind: str,
    date: dt.date,
    decision: str,
    list_name: str | None,
) -> tuple[str, str, tuple[str, ...]]:
    """(agency name, document number, penalty titles) for a record of `domain`."""
    name = str(domain.get("name", ""))
    if list_name and "被执行人" in list_name:
        agency = _COURT
    else:  # list entries and arrears come from their own agency whatever the domain
        agency = _agency_for(_KIND_AGENCY_HINT.get(kind, name))
    city, (county_code, county) = ent.city, ent.county
    on_county = agency.county is not None and rng.random() < 0.3 and county != city.full
    template = agency.county if on_county and agency.county else agency.city
    customs = _CUSTOMS[reg.province_short]
    full = template.format(
        unit=_local(city, county) if on_county else city.full,
        city=city.full,
        short=city.short,
        province=reg.province_full,
        customs=customs,
        name=name,
    )
    number = rng.randint(1, 1500)
    if (
        agency is _COURT
    ):  # court case numbers: （2023）甘0102执123号, 甘01 for the intermediate court
        code = county_code[2:] if on_county else city.code[2:4]
        return full, f"（{date.year}）{reg.province_abbr}{code}执{number}号", agency.titles
    if on_county:
        unit_abbr = _place_short(county)[:2]
    elif "{province}" in template:
        unit_abbr = reg.province_abbr
    elif "{customs}" in template:
        unit_abbr = customs[0]
    else:
        unit_abbr = city.abbr
    if kind == "administrative_penalty":
        word = "不罚" if decision == "no_punishment" else rng.choice(("罚", "处罚"))
    else:
        word = _DOC_WORD[kind]
    doc_no = f"{unit_abbr}{agency.abbr}{word}〔{date.year}〕{number}号"
    return full, doc_no, agency.titles or _GENERIC_TITLES


def generate_region(
    region: str, entities: int, seed: int, records: int | None = None
) -> Iterator[dict[str, Any]]:
    """What `report-service seed` loads: `generate` over the region profile's report domains."""
    from .profiles import load_profile  # the profile loader reads package data; import on use

    domains = [
        {"code": d.code, "name": d.name, "data_scope": list(d.data_scope), "lists": list(d.lists)}
        for d in load_profile(region).domains
    ]
    # the seeds leave arrears and most list names off the domain tables: spread kinds anyway
    return generate(region, domains, entities, seed, kinds_in_data_scope=False, records=records)
