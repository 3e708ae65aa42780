"""open challenges (揭榜挂帅): challenges with criteria, clarifications, questions, solvers, invitations,
proposals (consortium members, files), evaluation panel, conflict declarations, scores, awards and milestones;
the challenge notification kinds (kind columns widened to 24 characters), "challenge" as a confidentiality item
type (item_type widened to 12) and as an introduction source (an award opens an introduction)

Revision ID: 0024_challenges
Revises: 0029_patent_scale
Create Date: 2026-12-01 07:42:46.461401

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_challenges'
down_revision = '0029_patent_scale'
branch_labels = None
depends_on = None

OLD_KINDS = ("introduction", "reply", "stage", "followup_due", "strong_match", "rating_request", "saved_search",
             "access", "event", "security", "message", "organization", "review", "submission", "meeting",
             "policy", "survey")
NEW_KINDS = OLD_KINDS + ("challenge_review", "challenge_question", "challenge_update", "challenge_invitation",
                         "proposal_feedback", "challenge_awarded", "challenge_panel")
OLD_ITEM_TYPES = ("offer", "need")
NEW_ITEM_TYPES = OLD_ITEM_TYPES + ("challenge",)
OLD_SOURCES = ("suggestion", "manual", "request")
NEW_SOURCES = OLD_SOURCES + ("challenge",)


def _replace_check(batch_op, table, name, condition):
    batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
    batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def _widen_and_recheck(kinds, item_types, sources, *, kind_length, item_type_length):
    """Set the kind / item_type column widths and their CHECK lists (upgrade and downgrade alike)."""
    for table in ("notifications", "notification_preferences"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("kind", existing_type=sa.String(), type_=sa.String(length=kind_length),
                                  existing_nullable=False)
            _replace_check(batch_op, table, "kind", f"kind IN {kinds}")
    for table in ("nda_terms", "access_requests", "nda_acceptances", "detail_access_logs"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("item_type", existing_type=sa.String(),
                                  type_=sa.String(length=item_type_length), existing_nullable=False)
            _replace_check(batch_op, table, "item_type", f"item_type IN {item_types}")
    with op.batch_alter_table("introductions") as batch_op:
        _replace_check(batch_op, "introductions", "source", f"source IN {sources}")


def upgrade():
    op.create_table('challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('need_id', sa.Integer(), nullable=True),
    sa.Column('sub_park', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('summary_zh', sa.Text(), nullable=False),
    sa.Column('summary_en', sa.Text(), nullable=False),
    sa.Column('problem_zh', sa.Text(), nullable=False),
    sa.Column('problem_en', sa.Text(), nullable=False),
    sa.Column('requirements_zh', sa.Text(), nullable=False),
    sa.Column('requirements_en', sa.Text(), nullable=False),
    sa.Column('ip_terms_zh', sa.Text(), nullable=False),
    sa.Column('ip_terms_en', sa.Text(), nullable=False),
    sa.Column('confidential_zh', sa.Text(), nullable=False),
    sa.Column('confidential_en', sa.Text(), nullable=False),
    sa.Column('award_min_rmb', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('award_max_rmb', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('award_note', sa.Text(), nullable=False),
    sa.Column('milestone_plan', sa.JSON(), nullable=False),
    sa.Column('eligible_kinds', sa.JSON(), nullable=False),
    sa.Column('consortium_allowed', sa.Boolean(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('clarification_number', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluation_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'sent_back', 'rejected', 'published', 'closed', 'in_evaluation', 'awarded', 'delivered', 'withdrawn')", name=op.f('ck_challenges_status')),
    sa.CheckConstraint('award_max_rmb IS NULL OR award_min_rmb IS NULL OR award_max_rmb >= award_min_rmb', name=op.f('ck_challenges_award_range')),
    sa.CheckConstraint('award_min_rmb IS NULL OR award_min_rmb >= 0', name=op.f('ck_challenges_award_min_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_challenges_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_challenges_need_id_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_challenges_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_challenges_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges'))
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenges_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_status'), ['status'], unique=False)

    op.create_table('challenge_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.CheckConstraint('weight > 0 AND weight <= 100', name=op.f('ck_challenge_criteria_weight_range')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_criteria_challenge_id_challenges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_criteria'))
    )
    with op.batch_alter_table('challenge_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_criteria_challenge_id'), ['challenge_id'], unique=False)

    op.create_table('challenge_fields',
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('field_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_fields_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['fields.id'], name=op.f('fk_challenge_fields_field_id_fields'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge_id', 'field_id', name=op.f('pk_challenge_fields'))
    )
    op.create_table('challenge_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('offer_ids', sa.JSON(), nullable=False),
    sa.Column('patent_ids', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_invitations_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_challenge_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_challenge_invitations_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_invitations')),
    sa.UniqueConstraint('challenge_id', 'organization_id', name=op.f('uq_challenge_invitations_challenge_id_organization_id'))
    )
    with op.batch_alter_table('challenge_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_invitations_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_invitations_organization_id'), ['organization_id'], unique=False)

    op.create_table('challenge_panel_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('chair', 'evaluator', 'expert')", name=op.f('ck_challenge_panel_members_role')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_challenge_panel_members_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_panel_members_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_challenge_panel_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_panel_members')),
    sa.UniqueConstraint('challenge_id', 'user_id', name=op.f('uq_challenge_panel_members_challenge_id_user_id'))
    )
    with op.batch_alter_table('challenge_panel_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_panel_members_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_panel_members_user_id'), ['user_id'], unique=False)

    op.create_table('challenge_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('lead_organization_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('approach', sa.Text(), nullable=False),
    sa.Column('team', sa.Text(), nullable=False),
    sa.Column('milestones', sa.JSON(), nullable=False),
    sa.Column('budget_rmb', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'withdrawn', 'shortlisted', 'awarded', 'not_selected')", name=op.f('ck_challenge_proposals_status')),
    sa.CheckConstraint('budget_rmb IS NULL OR budget_rmb >= 0', name=op.f('ck_challenge_proposals_budget_not_negative')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_proposals_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_challenge_proposals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_organization_id'], ['organizations.id'], name=op.f('fk_challenge_proposals_lead_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_proposals')),
    sa.UniqueConstraint('challenge_id', 'lead_organization_id', name=op.f('uq_challenge_proposals_challenge_id_lead_organization_id'))
    )
    with op.batch_alter_table('challenge_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_proposals_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_proposals_lead_organization_id'), ['lead_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_proposals_status'), ['status'], unique=False)

    op.create_table('challenge_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=True),
    sa.Column('asker_organization_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answer_visibility', sa.String(length=8), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("answer_visibility IS NULL OR answer_visibility IN ('public', 'private')", name=op.f('ck_challenge_questions_answer_visibility')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_challenge_questions_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['asker_id'], ['users.id'], name=op.f('fk_challenge_questions_asker_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['asker_organization_id'], ['organizations.id'], name=op.f('fk_challenge_questions_asker_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_questions_challenge_id_challenges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_questions'))
    )
    with op.batch_alter_table('challenge_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_questions_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_questions_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_questions_created_at'), ['created_at'], unique=False)

    op.create_table('challenge_solvers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('interest', 'question', 'proposal', 'invitation')", name=op.f('ck_challenge_solvers_source')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_solvers_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_challenge_solvers_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_challenge_solvers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_solvers')),
    sa.UniqueConstraint('challenge_id', 'user_id', name=op.f('uq_challenge_solvers_challenge_id_user_id'))
    )
    with op.batch_alter_table('challenge_solvers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_solvers_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_solvers_user_id'), ['user_id'], unique=False)

    op.create_table('challenge_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('introduction_id', sa.Integer(), nullable=True),
    sa.Column('amount_rmb', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('awarded_by_id', sa.Integer(), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['awarded_by_id'], ['users.id'], name=op.f('fk_challenge_awards_awarded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_awards_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['introduction_id'], ['introductions.id'], name=op.f('fk_challenge_awards_introduction_id_introductions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['challenge_proposals.id'], name=op.f('fk_challenge_awards_proposal_id_challenge_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_awards')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_challenge_awards_proposal_id'))
    )
    with op.batch_alter_table('challenge_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_awards_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_awards_introduction_id'), ['introduction_id'], unique=False)

    op.create_table('challenge_clarifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_clarifications_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_challenge_clarifications_published_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['challenge_questions.id'], name=op.f('fk_challenge_clarifications_question_id_challenge_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_clarifications')),
    sa.UniqueConstraint('challenge_id', 'number', name=op.f('uq_challenge_clarifications_challenge_id_number'))
    )
    with op.batch_alter_table('challenge_clarifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_clarifications_challenge_id'), ['challenge_id'], unique=False)

    op.create_table('challenge_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_member_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('has_conflict', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['panel_member_id'], ['challenge_panel_members.id'], name=op.f('fk_challenge_conflicts_panel_member_id_challenge_panel_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['challenge_proposals.id'], name=op.f('fk_challenge_conflicts_proposal_id_challenge_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_conflicts')),
    sa.UniqueConstraint('panel_member_id', 'proposal_id', name=op.f('uq_challenge_conflicts_panel_member_id_proposal_id'))
    )
    with op.batch_alter_table('challenge_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_conflicts_panel_member_id'), ['panel_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_conflicts_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('challenge_proposal_files',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_challenge_proposal_files_file_id_stored_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['challenge_proposals.id'], name=op.f('fk_challenge_proposal_files_proposal_id_challenge_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'file_id', name=op.f('pk_challenge_proposal_files'))
    )
    op.create_table('challenge_proposal_members',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_challenge_proposal_members_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['challenge_proposals.id'], name=op.f('fk_challenge_proposal_members_proposal_id_challenge_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'organization_id', name=op.f('pk_challenge_proposal_members'))
    )
    op.create_table('challenge_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_member_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 10', name=op.f('ck_challenge_scores_score_range')),
    sa.ForeignKeyConstraint(['criterion_id'], ['challenge_criteria.id'], name=op.f('fk_challenge_scores_criterion_id_challenge_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_member_id'], ['challenge_panel_members.id'], name=op.f('fk_challenge_scores_panel_member_id_challenge_panel_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['challenge_proposals.id'], name=op.f('fk_challenge_scores_proposal_id_challenge_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_scores')),
    sa.UniqueConstraint('panel_member_id', 'proposal_id', 'criterion_id', name=op.f('uq_challenge_scores_panel_member_id_proposal_id_criterion_id'))
    )
    with op.batch_alter_table('challenge_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_scores_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_scores_panel_member_id'), ['panel_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_scores_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('challenge_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('due', 'delivered', 'accepted')", name=op.f('ck_challenge_milestones_status')),
    sa.ForeignKeyConstraint(['award_id'], ['challenge_awards.id'], name=op.f('fk_challenge_milestones_award_id_challenge_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_milestones_challenge_id_challenges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_milestones'))
    )
    with op.batch_alter_table('challenge_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_milestones_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_milestones_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_milestones_status'), ['status'], unique=False)

    _widen_and_recheck(NEW_KINDS, NEW_ITEM_TYPES, NEW_SOURCES, kind_length=24, item_type_length=12)



def downgrade():
    op.execute(f"DELETE FROM notifications WHERE kind NOT IN {OLD_KINDS}")
    op.execute(f"DELETE FROM notification_preferences WHERE kind NOT IN {OLD_KINDS}")
    for table in ("nda_terms", "access_requests", "nda_acceptances", "detail_access_logs"):
        op.execute(f"DELETE FROM {table} WHERE item_type NOT IN {OLD_ITEM_TYPES}")
    op.execute(f"UPDATE introductions SET source = 'manual' WHERE source NOT IN {OLD_SOURCES}")
    _widen_and_recheck(OLD_KINDS, OLD_ITEM_TYPES, OLD_SOURCES, kind_length=16, item_type_length=8)

    with op.batch_alter_table('challenge_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_milestones_status'))
        batch_op.drop_index(batch_op.f('ix_challenge_milestones_challenge_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_milestones_award_id'))

    op.drop_table('challenge_milestones')
    with op.batch_alter_table('challenge_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_scores_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_scores_panel_member_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_scores_criterion_id'))

    op.drop_table('challenge_scores')
    op.drop_table('challenge_proposal_members')
    op.drop_table('challenge_proposal_files')
    with op.batch_alter_table('challenge_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_conflicts_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_conflicts_panel_member_id'))

    op.drop_table('challenge_conflicts')
    with op.batch_alter_table('challenge_clarifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_clarifications_challenge_id'))

    op.drop_table('challenge_clarifications')
    with op.batch_alter_table('challenge_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_awards_introduction_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_awards_challenge_id'))

    op.drop_table('challenge_awards')
    with op.batch_alter_table('challenge_solvers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_solvers_user_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_solvers_challenge_id'))

    op.drop_table('challenge_solvers')
    with op.batch_alter_table('challenge_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_questions_created_at'))
        batch_op.drop_index(batch_op.f('ix_challenge_questions_challenge_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_questions_asker_id'))

    op.drop_table('challenge_questions')
    with op.batch_alter_table('challenge_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_challenge_proposals_lead_organization_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_proposals_challenge_id'))

    op.drop_table('challenge_proposals')
    with op.batch_alter_table('challenge_panel_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_panel_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_panel_members_challenge_id'))

    op.drop_table('challenge_panel_members')
    with op.batch_alter_table('challenge_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_invitations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_invitations_challenge_id'))

    op.drop_table('challenge_invitations')
    op.drop_table('challenge_fields')
    with op.batch_alter_table('challenge_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_criteria_challenge_id'))

    op.drop_table('challenge_criteria')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenges_status'))
        batch_op.drop_index(batch_op.f('ix_challenges_published_at'))
        batch_op.drop_index(batch_op.f('ix_challenges_organization_id'))
        batch_op.drop_index(batch_op.f('ix_challenges_need_id'))
        batch_op.drop_index(batch_op.f('ix_challenges_deadline'))

    op.drop_table('challenges')
