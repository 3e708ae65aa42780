"""supply chains: a manufacturer's product inputs with their suppliers' statuses; liaison reports name a chain;
notification kinds "policy" (measures that may fit a firm) and "survey" (the park's surveys and reminders)

Revision ID: 0031_supply_chains
Revises: 0019_offer_embeddings
"""
from alembic import op
import sqlalchemy as sa


revision = '0031_supply_chains'
down_revision = '0019_offer_embeddings'
branch_labels = None
depends_on = None

OLD_KINDS = ("introduction", "reply", "stage", "followup_due", "strong_match", "rating_request", "saved_search",
             "access", "event", "security", "message", "organization", "review", "submission", "meeting")
NEW_KINDS = OLD_KINDS + ("policy", "survey")


def _replace_check(table, name, condition):
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def upgrade():
    for table in ("notifications", "notification_preferences"):
        _replace_check(table, "kind", f"kind IN {NEW_KINDS}")
    op.create_table('supply_chains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('sub_park', sa.String(length=30), nullable=True),
    sa.Column('product_zh', sa.String(length=200), nullable=False),
    sa.Column('product_en', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_supply_chains_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_chains'))
    )
    with op.batch_alter_table('supply_chains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_chains_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_chains_sub_park'), ['sub_park'], unique=False)

    op.create_table('supply_chain_inputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('part_name', sa.String(length=200), nullable=False),
    sa.Column('supplier_org_id', sa.Integer(), nullable=True),
    sa.Column('supplier_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_note', sa.Text(), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=True),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('blocked', 'import_delayed', 'running')", name=op.f('ck_supply_chain_inputs_status')),
    sa.ForeignKeyConstraint(['chain_id'], ['supply_chains.id'], name=op.f('fk_supply_chain_inputs_chain_id_supply_chains'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_supply_chain_inputs_need_id_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_org_id'], ['organizations.id'], name=op.f('fk_supply_chain_inputs_supplier_org_id_organizations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_chain_inputs'))
    )
    with op.batch_alter_table('supply_chain_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_chain_inputs_chain_id'), ['chain_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_chain_inputs_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_chain_inputs_supplier_org_id'), ['supplier_org_id'], unique=False)

    with op.batch_alter_table('liaison_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supply_chain_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_liaison_reports_supply_chain_id'), ['supply_chain_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_liaison_reports_supply_chain_id_supply_chains'), 'supply_chains', ['supply_chain_id'], ['id'], ondelete='SET NULL')



def downgrade():
    op.execute(f"DELETE FROM notifications WHERE kind NOT IN {OLD_KINDS}")
    op.execute(f"DELETE FROM notification_preferences WHERE kind NOT IN {OLD_KINDS}")
    for table in ("notifications", "notification_preferences"):
        _replace_check(table, "kind", f"kind IN {OLD_KINDS}")
    with op.batch_alter_table('liaison_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_liaison_reports_supply_chain_id_supply_chains'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_liaison_reports_supply_chain_id'))
        batch_op.drop_column('supply_chain_id')

    with op.batch_alter_table('supply_chain_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_chain_inputs_supplier_org_id'))
        batch_op.drop_index(batch_op.f('ix_supply_chain_inputs_status'))
        batch_op.drop_index(batch_op.f('ix_supply_chain_inputs_chain_id'))

    op.drop_table('supply_chain_inputs')
    with op.batch_alter_table('supply_chains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_chains_sub_park'))
        batch_op.drop_index(batch_op.f('ix_supply_chains_organization_id'))

    op.drop_table('supply_chains')
