"""The field taxonomy: five key support directions of the 2020 ZGC notice, with subfields."""
from __future__ import annotations

from sqlalchemy import select

# (code, name_zh, name_en, [(subcode, name_zh, name_en), ...])
TAXONOMY = [
    ("D1", "检测诊断、治疗及防护药品和医疗器械", "Detection, diagnosis, treatment and protection: drugs and medical devices", [
        ("D1.ivd", "体外诊断", "In-vitro diagnostics"),
        ("D1.virus_detection", "病毒检测", "Virus detection"),
        ("D1.vaccine", "疫苗研发", "Vaccine R&D"),
        ("D1.drugs", "临床治疗药物", "Clinical treatment drugs"),
        ("D1.devices", "医疗设备", "Medical equipment"),
        ("D1.ventilators", "呼吸机与生命支持", "Ventilators and life support"),
        ("D1.protection", "医疗防护", "Medical protection"),
        ("D1.disinfection", "消毒杀菌", "Disinfection"),
    ]),
    ("D2", "人工智能在防治服务、药品器械防护品生产及无人物流中的应用",
     "Artificial intelligence for prevention and treatment, production and unmanned logistics", [
        ("D2.ai_diagnosis", "智能诊断", "Intelligent diagnosis"),
        ("D2.ai_drug", "智能药物研发", "AI drug discovery"),
        ("D2.smart_manufacturing", "智能制造", "Intelligent manufacturing"),
        ("D2.unmanned_delivery", "无人配送", "Unmanned delivery"),
        ("D2.robots", "服务机器人", "Service robots"),
        ("D2.voice", "智能语音交互", "Voice interaction"),
    ]),
    ("D3", "大数据、物联网、5G、高端芯片和虚拟现实的一线应用",
     "Big data, IoT, 5G, high-end chips and virtual reality at the front line", [
        ("D3.epidemic_analysis", "疫情分析与发布", "Epidemic analysis and publication"),
        ("D3.temperature", "体温筛查", "Temperature screening"),
        ("D3.iot", "物联网", "Internet of Things"),
        ("D3.5g", "5G应用", "5G applications"),
        ("D3.chips", "高端芯片与传感器", "High-end chips and sensors"),
        ("D3.vr", "虚拟现实", "Virtual reality"),
    ]),
    ("D4", "应急病房建设的环境保护与节能", "Environmental protection and energy saving for emergency wards", [
        ("D4.negative_pressure", "负压病房", "Negative-pressure wards"),
        ("D4.air", "空气净化与新风", "Air purification and ventilation"),
        ("D4.medical_waste", "医疗废物处理", "Medical waste treatment"),
        ("D4.energy", "节能与能源保障", "Energy saving and supply"),
        ("D4.modular", "装配式建筑", "Modular construction"),
    ]),
    ("D5", "\"互联网+\"生产生活服务平台", "\"Internet+\" platforms for production and daily-life services", [
        ("D5.collab_office", "协同办公", "Collaborative office"),
        ("D5.telemedicine", "互联网医疗", "Telemedicine"),
        ("D5.online_education", "在线教育", "Online education"),
        ("D5.life_services", "生活服务", "Daily-life services"),
        ("D5.supply_chain", "供应链协同平台", "Supply-chain platforms"),
    ]),
]


def load_taxonomy(session) -> int:
    """Insert missing taxonomy nodes (idempotent); returns how many were added. Flushes only."""
    from marketplace.models import Field

    existing = {f.code: f for f in session.scalars(select(Field))}
    added = 0
    for order, (code, zh, en, children) in enumerate(TAXONOMY):
        top = existing.get(code)
        if top is None:
            top = Field(code=code, name_zh=zh, name_en=en, sort_order=order)
            session.add(top)
            added += 1
        for sub_order, (sub_code, sub_zh, sub_en) in enumerate(children):
            if sub_code not in existing:
                session.add(Field(code=sub_code, name_zh=sub_zh, name_en=sub_en, sort_order=sub_order, parent=top))
                added += 1
    session.flush()
    return added
