"""Supply-chain coordination: a manufacturer lists a product's inputs with their suppliers and statuses; the
chain shows blocked inputs first with counts; a blocked input becomes an open need with one action (once); only
the manufacturer's members, its sub-park's staff and operators see the chain; a supply-chain liaison report names
the chain."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import LiaisonReport, Need, Organization, SubParkStaff, SupplyChain, SupplyInput, User
from marketplace.services.policy import posts
from tests.conftest import login


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _manufacturer(app, make, sub_park="haidian"):
    org, _user, email = make.member("firm")
    with app.app_context():
        db.session.get(Organization, org).sub_park = sub_park
        db.session.commit()
    return org, _as(app, email)


def _sub_park_staff(app, make, sub_park="haidian"):
    _uid, email = make.staff("broker")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.add(SubParkStaff(user_id=user.id, sub_park=sub_park))
        db.session.commit()
    return _as(app, email)


def _chain(client, org) -> int:
    response = client.post("/supply-chains/", data={"org": org, "product_zh": "重症呼吸机", "product_en": "ICU ventilator"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _input(client, chain_id, **data) -> int:
    body = {"part_name": "涡轮风机", "supplier_name": "德国某风机厂", "status": "running", **data}
    assert client.post(f"/supply-chains/{chain_id}/inputs", data=body).status_code == 302
    return 0


def _inputs(app, chain_id):
    with app.app_context():
        return {i.part_name: (i.id, i.status, i.need_id) for i in db.session.scalars(
            select(SupplyInput).where(SupplyInput.chain_id == chain_id))}


def test_a_manufacturer_lists_inputs_and_sees_blocked_first_with_counts(app, make):
    org, maker = _manufacturer(app, make)
    supplier_org, _u, _e = make.member("firm")
    chain_id = _chain(maker, org)
    _input(maker, chain_id, part_name="外壳", supplier_name="本地钣金厂")
    _input(maker, chain_id, part_name="涡轮风机", status="import_delayed", status_note="海运延误两周")
    _input(maker, chain_id, part_name="流量传感器", supplier_name="", supplier_org_id=str(supplier_org),
           status="blocked", status_note="供应商尚未复工", status_on="2020-02-10")
    page = maker.get(f"/supply-chains/{chain_id}").get_data(as_text=True)
    assert page.index("流量传感器") < page.index("涡轮风机") < page.index("外壳")
    assert 'id="count-blocked"' in page and "供应商尚未复工" in page
    listing = maker.get("/supply-chains/").get_data(as_text=True)
    assert "重症呼吸机" in listing
    with app.app_context():
        inputs = {i.part_name: i for i in db.session.scalars(select(SupplyInput))}
        assert inputs["流量传感器"].supplier_org_id == supplier_org and inputs["流量传感器"].supplier_name == ""
        assert str(inputs["流量传感器"].status_on) == "2020-02-10"
        assert db.session.get(SupplyChain, chain_id).sub_park == "haidian"


def test_bad_inputs_are_refused_keep_the_form_and_save_nothing(app, make):
    org, maker = _manufacturer(app, make)
    chain_id = _chain(maker, org)
    bad_cases = ({"part_name": ""}, {"supplier_name": ""}, {"supplier_name": "", "supplier_org_id": "99999999"},
                 {"supplier_org_id": "abc"}, {"status": "weather"}, {"status": "blocked", "status_note": ""},
                 {"status_on": "2020-13-45"}, {"part_name": "x" * 201})
    for bad in bad_cases:
        body = {"part_name": "主控芯片", "supplier_name": "某芯片厂", "status": "running", **bad}
        response = maker.post(f"/supply-chains/{chain_id}/inputs", data=body)
        assert response.status_code == 200, bad
        assert "is-invalid" in response.get_data(as_text=True)
    assert maker.post("/supply-chains/", data={"org": org, "product_zh": "", "product_en": ""}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(SupplyInput.id))) == 0
        assert db.session.scalar(select(func.count(SupplyChain.id))) == 1


def test_a_blocked_input_becomes_one_open_need_that_another_supplier_sees(app, make):
    org, maker = _manufacturer(app, make)
    chain_id = _chain(maker, org)
    _input(maker, chain_id, part_name="涡轮风机", status="blocked", status_note="进口受阻")
    _input(maker, chain_id, part_name="外壳")
    inputs = _inputs(app, chain_id)
    running_id, blocked_id = inputs["外壳"][0], inputs["涡轮风机"][0]
    maker.post(f"/supply-chains/inputs/{running_id}/need")
    staff = _sub_park_staff(app, make)
    assert staff.post(f"/supply-chains/inputs/{blocked_id}/need").status_code == 302
    assert staff.post(f"/supply-chains/inputs/{blocked_id}/need").status_code == 302  # a second click: no new need
    inputs = _inputs(app, chain_id)
    assert inputs["外壳"][2] is None
    need_id = inputs["涡轮风机"][2]
    with app.app_context():
        need = db.session.get(Need, need_id)
        assert (need.organization_id, need.kind, need.status) == (org, "manufacturing_supply", "open")
        assert "涡轮风机" in need.title_zh and "进口受阻" in need.description_zh
        assert db.session.scalar(select(func.count(Need.id))) == 1
    _s, _u, supplier_email = make.member("firm")
    assert "涡轮风机" in _as(app, supplier_email).get(f"/needs/{need_id}").get_data(as_text=True)


def test_only_the_manufacturer_its_sub_park_and_operators_see_the_chain(app, make):
    org, maker = _manufacturer(app, make)
    chain_id = _chain(maker, org)
    _input(maker, chain_id, status="blocked", status_note="停工")
    input_id = next(iter(_inputs(app, chain_id).values()))[0]
    _o, _u, stranger_email = make.member("firm")
    stranger = _as(app, stranger_email)
    other_park = _sub_park_staff(app, make, "changping")
    for client in (stranger, other_park):
        assert client.get(f"/supply-chains/{chain_id}").status_code == 404
        assert client.post(f"/supply-chains/{chain_id}/inputs", data={"part_name": "x", "supplier_name": "y",
                                                                        "status": "running"}).status_code == 404
        assert client.post(f"/supply-chains/inputs/{input_id}/status", data={"status": "running"}).status_code == 404
        assert client.post(f"/supply-chains/inputs/{input_id}/need").status_code == 404
        assert "重症呼吸机" not in client.get("/supply-chains/").get_data(as_text=True)
    staff = _sub_park_staff(app, make)
    assert "重症呼吸机" in staff.get(f"/supply-chains/{chain_id}").get_data(as_text=True)
    assert "重症呼吸机" in staff.get("/supply-chains/").get_data(as_text=True)
    # Sub-park staff help; they do not rewrite the manufacturer's chain.
    staff.post(f"/supply-chains/inputs/{input_id}/status", data={"status": "running"})
    _uid, operator_email = make.staff("operator")
    assert "重症呼吸机" in _as(app, operator_email).get(f"/supply-chains/{chain_id}").get_data(as_text=True)
    assert app.test_client().get(f"/supply-chains/{chain_id}").status_code == 302
    with app.app_context():
        assert db.session.get(SupplyInput, input_id).status == "blocked"
        assert db.session.scalar(select(func.count(Need.id))) == 0


def test_the_rule_gives_the_same_answer_in_sql_and_in_python(app, make):
    org, maker = _manufacturer(app, make)
    _chain(maker, org)
    _o, _stranger, _e = make.member("firm")
    with app.app_context():
        chain = db.session.scalar(select(SupplyChain))
        viewers = [visibility.Viewer(user_id=1, org_ids=frozenset({org})),
                   visibility.Viewer(user_id=2, sub_parks=frozenset({"haidian"})),
                   visibility.Viewer(user_id=3, sub_parks=frozenset({"changping"})),
                   visibility.Viewer(user_id=4, org_ids=frozenset({_o})),
                   visibility.Viewer(user_id=5, roles=frozenset({"operator"})), visibility.ANONYMOUS]
        for viewer in viewers:
            in_sql = db.session.scalar(select(func.count(SupplyChain.id)).where(
                visibility.SUPPLY_CHAIN_OPEN.clause(viewer))) == 1
            assert in_sql == visibility.SUPPLY_CHAIN_OPEN.allows(viewer, chain) == (viewer.user_id in (1, 2, 5))
        assert posts.viewer(viewers[1]) is viewers[1]


def test_status_changes_are_versioned_and_a_stale_form_changes_nothing(app, make):
    org, maker = _manufacturer(app, make)
    chain_id = _chain(maker, org)
    _input(maker, chain_id)
    input_id = next(iter(_inputs(app, chain_id).values()))[0]
    assert maker.post(f"/supply-chains/inputs/{input_id}/status",
                      data={"status": "blocked", "status_note": "停工", "version": "1"}).status_code == 302
    maker.post(f"/supply-chains/inputs/{input_id}/status", data={"status": "running", "version": "1"})
    maker.post(f"/supply-chains/inputs/{input_id}/status", data={"status": "blocked", "version": "2"})  # no note
    with app.app_context():
        item = db.session.get(SupplyInput, input_id)
        assert (item.status, item.status_note, item.version) == ("blocked", "停工", 2)


def test_a_supply_chain_report_names_the_chain_and_the_staff_reach_it(app, make):
    org, maker = _manufacturer(app, make)
    chain_id = _chain(maker, org)
    other_org, other = _manufacturer(app, make)
    other_chain = _chain(other, other_org)
    report = {"org": org, "topic": "supply_chain", "title": "呼吸机涡轮风机进口受阻", "body": "需要替代供应商"}
    assert maker.post("/liaison/", data={**report, "supply_chain_id": str(other_chain)}).status_code == 200
    assert maker.post("/liaison/", data={**report, "topic": "legal", "supply_chain_id": str(chain_id)}
                      ).status_code == 200
    response = maker.post("/liaison/", data={**report, "supply_chain_id": str(chain_id)})
    assert response.status_code == 302
    report_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        assert db.session.scalar(select(func.count(LiaisonReport.id))) == 1
        assert db.session.get(LiaisonReport, report_id).supply_chain_id == chain_id
    staff = _sub_park_staff(app, make)
    assert f"/supply-chains/{chain_id}" in staff.get(f"/liaison/{report_id}").get_data(as_text=True)
    assert "呼吸机涡轮风机进口受阻" in staff.get(f"/supply-chains/{chain_id}").get_data(as_text=True)


def test_the_demo_ventilator_chain_has_about_fifty_suppliers_some_blocked(app, make):
    import random
    from datetime import date

    from marketplace.demo.supply_chains import add_supply_chain
    from marketplace.queries import supply_chains as chains_q
    ids = [make.member("firm")[0] for _ in range(3)]
    with app.app_context():
        firms = [db.session.get(Organization, i) for i in ids]
        chain = add_supply_chain(db.session, random.Random(1), today=date(2020, 2, 20), firms=firms)
        db.session.commit()
        (row,) = chains_q.chains_for(visibility.Viewer(user_id=1, org_ids=frozenset({chain.organization_id})))
        assert 45 <= row["total"] <= 60 and row["counts"]["blocked"] >= 3 and row["counts"]["import_delayed"] >= 2
        assert any(i.supplier_org_id for i in chain.inputs) and any(i.supplier_name for i in chain.inputs)
