"""event feedback and outcomes: participants' ratings after an event, outcomes recorded months later

Revision ID: 0027_event_feedback
Revises: 0026_event_participants
"""
from alembic import op
import sqlalchemy as sa


revision = "0027_event_feedback"
down_revision = '0026_event_participants'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_event_feedback_rating')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_feedback_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_feedback_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_feedback')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_feedback_event_id_user_id'))
    )
    with op.batch_alter_table('event_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_feedback_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_feedback_user_id'), ['user_id'], unique=False)

    op.create_table('event_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount_rmb', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('happened_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('introduction', 'deal', 'investment', 'other')", name=op.f('ck_event_outcomes_kind')),
    sa.CheckConstraint('amount_rmb IS NULL OR amount_rmb >= 0', name=op.f('ck_event_outcomes_amount_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_outcomes_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_event_outcomes_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_event_outcomes_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_outcomes'))
    )
    with op.batch_alter_table('event_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_outcomes_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_outcomes_organization_id'), ['organization_id'], unique=False)



def downgrade():
    with op.batch_alter_table('event_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_outcomes_organization_id'))
        batch_op.drop_index(batch_op.f('ix_event_outcomes_event_id'))

    op.drop_table('event_outcomes')
    with op.batch_alter_table('event_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_feedback_user_id'))
        batch_op.drop_index(batch_op.f('ix_event_feedback_event_id'))

    op.drop_table('event_feedback')
