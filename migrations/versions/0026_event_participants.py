"""event participants, meeting windows, meeting check-in and notes

Participant profiles per event (with the slots each is free in), extra meeting windows, the organiser's
maximum meetings per person and request expiry, meetings between any two participants (agenda item optional,
expiry, check-in of both sides, no-show, private notes), interests from a meeting, event check-in.

Revision ID: 0026_event_participants
Revises: 0032_surveys
"""
from alembic import op
import sqlalchemy as sa

OLD_MEETING_STATUSES = ("pending", "accepted", "declined", "withdrawn")
MEETING_STATUSES = ("pending", "accepted", "declined", "withdrawn", "cancelled", "expired")


# revision identifiers, used by Alembic.
revision = '0026_event_participants'
down_revision = '0032_surveys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_meeting_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_event_meeting_windows_minutes_positive')),
    sa.CheckConstraint('slots > 0', name=op.f('ck_event_meeting_windows_slots_positive')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_meeting_windows_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_meeting_windows'))
    )
    with op.batch_alter_table('event_meeting_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_meeting_windows_event_id'), ['event_id'], unique=False)

    op.create_table('event_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('offers_text', sa.Text(), nullable=False),
    sa.Column('looks_for_text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('looking_for', sa.JSON(), nullable=False),
    sa.Column('meetings_opt_in', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('free_slots', sa.JSON(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_participants_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_event_participants_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_participants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_participants')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_participants_event_id_user_id'))
    )
    with op.batch_alter_table('event_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_participants_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_participants_user_id'), ['user_id'], unique=False)

    op.create_table('event_meeting_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_event_meeting_notes_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['event_meeting_requests.id'], name=op.f('fk_event_meeting_notes_meeting_id_event_meeting_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_meeting_notes')),
    sa.UniqueConstraint('meeting_id', 'author_id', name=op.f('uq_event_meeting_notes_meeting_id_author_id'))
    )
    with op.batch_alter_table('event_meeting_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_meeting_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_meeting_notes_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('event_interests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('offer_id', sa.Integer(), nullable=True))
        batch_op.alter_column('agenda_item_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_event_interests_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_event_interests_meeting_id_user_id_kind'), ['meeting_id', 'user_id', 'kind'])
        batch_op.create_foreign_key(batch_op.f('fk_event_interests_meeting_id_event_meeting_requests'), 'event_meeting_requests', ['meeting_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_event_interests_offer_id_offers'), 'offers', ['offer_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_event_interests_item_or_meeting'),
                                         "agenda_item_id IS NOT NULL OR meeting_id IS NOT NULL")

    with op.batch_alter_table('event_meeting_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_slot', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('requester_checked_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('presenter_checked_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('no_show_id', sa.Integer(), nullable=True))
        batch_op.alter_column('agenda_item_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_event_meeting_requests_expires_at'), ['expires_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_event_meeting_requests_no_show_id_users'), 'users', ['no_show_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f('ck_event_meeting_requests_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_event_meeting_requests_status'), f"status IN {MEETING_STATUSES}")

    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_meetings_per_person', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('meeting_request_days', sa.Integer(), server_default='3', nullable=False))



def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('meeting_request_days')
        batch_op.drop_column('max_meetings_per_person')

    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_column('checked_in_at')

    with op.batch_alter_table('event_meeting_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_meeting_requests_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_event_meeting_requests_status'), f"status IN {OLD_MEETING_STATUSES}")
        batch_op.drop_constraint(batch_op.f('fk_event_meeting_requests_no_show_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_event_meeting_requests_expires_at'))
        batch_op.alter_column('agenda_item_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('no_show_id')
        batch_op.drop_column('presenter_checked_in_at')
        batch_op.drop_column('requester_checked_in_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('proposed_slot')

    with op.batch_alter_table('event_interests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_interests_item_or_meeting'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_event_interests_offer_id_offers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_event_interests_meeting_id_event_meeting_requests'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_event_interests_meeting_id_user_id_kind'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_event_interests_meeting_id'))
        batch_op.alter_column('agenda_item_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('offer_id')
        batch_op.drop_column('meeting_id')

    with op.batch_alter_table('event_meeting_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_meeting_notes_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_event_meeting_notes_author_id'))

    op.drop_table('event_meeting_notes')
    with op.batch_alter_table('event_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_participants_user_id'))
        batch_op.drop_index(batch_op.f('ix_event_participants_event_id'))

    op.drop_table('event_participants')
    with op.batch_alter_table('event_meeting_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_meeting_windows_event_id'))

    op.drop_table('event_meeting_windows')
