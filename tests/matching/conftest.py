"""Small hand-made marketplace shared by the matching tests."""

import pytest


@pytest.fixture
def matching_offers():
    return [
        {
            "id": 1,
            "title_zh": "新冠病毒核酸检测试剂盒",
            "title_en": "COVID-19 nucleic acid test kit",
            "kind": "product",
            "org": "甲生物",
            "fields": ["体外诊断"],
            "certifications": ["CE", "NMPA"],
            "price": 50000,
            "lead_time_days": 7,
            "tags": ["核酸检测", "PCR"],
        },
        {
            "id": 2,
            "title": "AI肺炎影像辅助诊断系统",
            "text": "CT影像 人工智能 肺炎筛查 pneumonia screening",
            "kind": "technology",
            "org": "乙智能",
            "fields": ["智能诊断"],
            "trl": 7,
        },
        {
            "id": 3,
            "title": "第三方核酸检测实验室服务",
            "text": "PCR testing lab service",
            "kind": "service",
            "org": "丙检测中心",
            "fields": ["体外诊断"],
        },
        {
            "id": 4,
            "title": "Ventilator",
            "text": "ICU ventilator for export",
            "kind": "product",
            "org": "丁呼吸机厂",
            "fields": ["医疗器械"],
            "price": 300000,
        },
        {
            "id": 5,
            "title": "抗原检测试剂盒",
            "text": "rapid antigen test kit",
            "kind": "product",
            "org": "戊公司",
            "fields": ["体外诊断"],
            "certifications": ["CE"],
            "price": 80000,
            "lead_time_days": 40,
        },
        {
            "id": 6,
            "title": "防疫专项贷款",
            "text": "epidemic loan 3.05% unsecured",
            "kind": "financial",
            "org": "某银行",
        },
        {
            "id": 7,
            "title": "核酸提取仪专利",
            "text": "nucleic acid extraction patent",
            "kind": "patent",
            "org": "某大学",
            "ipc": ["C12Q 1/68"],
            "trl": 4,
        },
    ]


@pytest.fixture
def matching_edges():
    return [
        {"source": "org:协和医院", "target": "org:某供应商", "relation": "supplier"},
        {"source": "org:某供应商", "target": "org:戊公司", "relation": "partner"},
    ]


@pytest.fixture
def matching_need():
    return {
        "id": "n1",
        "title": "采购核酸检测试剂盒",
        "text": "need nucleic acid test kits",
        "kind": "procurement",
        "org": "协和医院",
        "fields": ["体外诊断"],
        "required_certifications": ["CE"],
        "budget": 60000,
        "deadline": "2024-01-20",
        "tags": ["PCR"],
    }
