"""Demo supply chain: the ventilator maker of the press reports, whose production waited on about 50 upstream
suppliers, some not back at work and some imported core parts delayed. Written directly, marked by the demo
organisations it belongs to; dates relative to ``today``."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.models import Offer, Organization, SupplyChain, SupplyInput

# (part, off-platform supplier) — the ventilator's bill of inputs, core parts first.
PARTS = (
    ("涡轮风机", "瑞士某风机厂"), ("流量传感器", "德国某传感器公司"), ("压力传感器", "苏州某传感器厂"),
    ("氧浓度传感器", "英国某传感器公司"), ("比例电磁阀", "日本某阀门公司"), ("呼气阀", "宁波某阀门厂"),
    ("主控板", "深圳某电子厂"), ("主控芯片", "上海某芯片公司"), ("触控显示屏", "合肥某显示公司"),
    ("医用电源模块", "东莞某电源厂"), ("锂电池组", "天津某电池公司"), ("报警扬声器", "常州某声学厂"),
    ("机壳注塑件", "昌平某注塑厂"), ("钣金底座", "廊坊某钣金厂"), ("呼吸管路", "江苏某医用耗材厂"),
    ("细菌过滤器", "浙江某滤材公司"), ("湿化罐", "广州某医疗器械厂"), ("加热丝", "无锡某电热厂"),
    ("氧气接头", "温州某接头厂"), ("空气入口滤网", "河北某滤材厂"), ("面罩", "山东某医用耗材厂"),
    ("模拟肺", "北京某检测设备公司"), ("线束", "昆山某线束厂"), ("连接器", "东莞某连接器厂"),
    ("旋钮编码器", "台州某电子厂"), ("按键膜", "深圳某薄膜开关厂"), ("密封圈", "河北某橡胶厂"),
    ("硅胶管", "东莞某硅胶厂"), ("不锈钢紧固件", "宁波某五金厂"), ("推车", "天津某医疗推车厂"),
    ("支臂", "佛山某支架厂"), ("包装箱", "北京某包装厂"), ("说明书印刷", "北京某印刷厂"),
    ("EMC滤波器", "成都某电子厂"), ("风扇", "台湾某风扇公司"), ("温度传感器", "杭州某传感器厂"),
    ("蜂鸣器", "宁波某电子厂"), ("PCB裸板", "珠海某电路板厂"), ("电容电阻", "日本某元件公司"),
    ("运算放大器", "美国某芯片公司"), ("存储芯片", "韩国某芯片公司"), ("蓝牙模块", "上海某通信模块公司"),
    ("软件测试服务", "北京某软件测评中心"), ("电磁兼容检测", "北京某检测中心"), ("灭菌服务", "河北某灭菌厂"),
    ("氧电池", "德国某电化学公司"), ("单向阀", "苏州某阀门厂"), ("消音器", "常州某消声器厂"),
    ("储气罐", "天津某压力容器厂"), ("标签铭牌", "北京某标牌厂"),
)
# Which inputs hold production back, and why (the press reports: suppliers not back at work, imports delayed).
BLOCKED = {"流量传感器": "供应商所在地尚未复工，库存只够一周。", "比例电磁阀": "原厂停产两周，需要国内替代。",
           "主控板": "贴片产线工人未返岗，产能只有三成。", "机壳注塑件": "模具厂未复工，已联系分园协调。",
           "线束": "外地员工隔离中，交货推迟。", "细菌过滤器": "熔喷料紧缺，优先供应口罩厂。"}
IMPORT_DELAYED = {"涡轮风机": "进口核心部件，航班取消，到货推迟约三周。", "氧浓度传感器": "海运清关延误。",
                  "运算放大器": "国际物流停滞，现有库存可用十天。", "氧电池": "原厂配额减少，交期延长一个月。"}


def ventilator_maker(session, firms: list[Organization]) -> Organization | None:
    """The demo firm that lists the invasive ventilator (the first firm when none does)."""
    owner_id = session.scalar(select(Offer.organization_id).where(Offer.title_zh == "有创呼吸机").limit(1))
    maker = session.get(Organization, owner_id) if owner_id else None
    return maker or (firms[0] if firms else None)


def add_supply_chain(session, rng: random.Random, *, today: date, firms: list[Organization]) -> SupplyChain | None:
    """The ventilator maker's chain: about 50 inputs, some on-platform suppliers, six blocked, four imports
    delayed. Flushes."""
    maker = ventilator_maker(session, firms)
    if maker is None:
        return None
    others = [f for f in firms if f.id != maker.id]
    chain = SupplyChain(organization_id=maker.id, sub_park=maker.sub_park, product_zh="ICU有创呼吸机",
                        product_en="ICU invasive ventilator",
                        note="出口订单增加三倍，园区协调约50家上游供应商复工复产。")
    for n, (part, name) in enumerate(PARTS):
        status, note = "running", ""
        if part in BLOCKED:
            status, note = "blocked", BLOCKED[part]
        elif part in IMPORT_DELAYED:
            status, note = "import_delayed", IMPORT_DELAYED[part]
        on_platform = others and n % 7 == 3
        chain.inputs.append(SupplyInput(
            part_name=part, supplier_org_id=others[n % len(others)].id if on_platform else None,
            supplier_name="" if on_platform else name, status=status, status_note=note,
            status_on=today - timedelta(days=rng.randrange(1, 20))))
    session.add(chain)
    session.flush()
    return chain
