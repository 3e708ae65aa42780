"""The notification registry: every kind a person can be told about (its label on the preferences page, who
receives it and how by default) and every message (title and body, filled in at reading time).

``services.notifications`` creates, renders and sends them; this module only describes them, so a new kind
is one entry here plus its CHECK-constraint value in ``models.notifications``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import get_translations

from marketplace.models.notifications import CHANNELS, NOTIFICATION_KINDS


@dataclass(frozen=True)
class Kind:
    """One kind of notification: its label, who receives it, and the e-mail delivery before anyone chooses."""

    label: object
    audience: object
    email: str = "immediate"  # "immediate", "digest" or "off"


KINDS = {
    "introduction": Kind(_l("New introductions and reminders to answer"), _l("Both sides of an introduction")),
    "reply": Kind(_l("Answers to introductions (accepted, declined)"),
                  _l("The other side and the technology manager")),
    "stage": Kind(_l("Stage changes of introductions"), _l("Both sides and the technology manager"), "off"),
    "followup_due": Kind(_l("Follow-ups that are due"), _l("Whoever owns the follow-up")),
    "strong_match": Kind(_l("New strong matches for my needs"), _l("Members of the organisation with the need")),
    "rating_request": Kind(_l("Requests to rate a follow-up"), _l("Both sides, some months after the end")),
    "saved_search": Kind(_l("New results of my saved searches"), _l("Whoever saved the search")),
    "access": Kind(_l("Requests to see confidential details, and their answers"),
                   _l("The owner of the item and the person asking")),
    "event": Kind(_l("Events I registered for (cancellations, places, reminders, meetings)"),
                  _l("People registered for the event")),
    "security": Kind(_l("Security of my account (locked after failed log-ins)"), _l("The account holder")),
    "message": Kind(_l("New messages in my introductions"), _l("Both sides of an introduction")),
    "organization": Kind(_l("My organisation: verification decisions"), _l("Owners of the organisation")),
    "review": Kind(_l("My offers: approved, sent back, rejected, published in a batch"),
                   _l("Members of the organisation that submitted the offer")),
    "submission": Kind(_l("New offers and organisations submitted for verification"), _l("Platform operators"),
                       "digest"),
    "meeting": Kind(_l("1:1 meeting requests, answers, and items I present"),
                    _l("The presenter and the person asking")),
    "policy": Kind(_l("Support measures my organisation may qualify for (new, changed, not yet filed)"),
                   _l("Members of the organisations that may qualify")),
    "survey": Kind(_l("Surveys of the park for my organisation, and reminders to answer"),
                   _l("Members of the organisations surveyed")),
    "challenge_review": Kind(_l("My challenges: approved, sent back, rejected"),
                             _l("Members of the organisation that submitted the challenge")),
    "challenge_question": Kind(_l("Questions and proposals on my challenges"),
                               _l("Members of the challenger organisation")),
    "challenge_update": Kind(_l("Challenges I follow: clarifications and answers to my questions"),
                             _l("People who asked, registered interest or prepare a proposal")),
    "challenge_invitation": Kind(_l("Invitations to take on a challenge"), _l("Members of the invited organisation")),
    "proposal_feedback": Kind(_l("My proposals: shortlisted, requests for more, feedback"),
                              _l("Members of the organisations of the proposal")),
    "challenge_awarded": Kind(_l("Challenge awards"), _l("The challenger, the awarded solvers and the panel")),
    "challenge_panel": Kind(_l("Evaluation panels I sit on"), _l("Members of the evaluation panel")),
}
assert set(KINDS) == set(NOTIFICATION_KINDS), "every kind in the CHECK constraint needs a registry entry"



@dataclass(frozen=True)
class Plural:
    """A message text whose words depend on a count ("1 new result", "3 new results").

    The form is chosen when the message is read, in the reader's language, from the parameter named ``count``.
    The extraction script knows ``Plural`` as a plural keyword, so both forms reach the catalogue.
    """

    singular: str
    plural: str
    count: str = "count"

    def format(self, params: dict) -> str:
        """The text for ``params`` (a missing or odd count reads as the plural form)."""
        try:
            number = int(str(params.get(self.count, "")).strip())
        except ValueError:
            number = 2
        # The catalogue's own ngettext: flask_babel's would format with its own copy of the parameters,
        # losing the empty default that a missing parameter gets at reading time.
        return get_translations().ngettext(self.singular, self.plural, number) % params


def format_text(text, params: dict) -> str:
    """Fill a registry text (plain lazy string or :class:`Plural`) with its parameters."""
    if isinstance(text, Plural):
        return text.format(params)
    return str(text) % params


KIND_LABELS = {kind: entry.label for kind, entry in KINDS.items()}
CHANNEL_LABELS = {"site": _l("On the site"), "email": _l("By e-mail at once"), "digest": _l("In the daily e-mail digest")}
# What a person receives before choosing: everything on the site; e-mail as the registry says.
DEFAULTS = {(kind, "site"): True for kind in NOTIFICATION_KINDS}
DEFAULTS.update({(kind, channel): KINDS[kind].email == {"email": "immediate", "digest": "digest"}[channel]
                 for kind in NOTIFICATION_KINDS for channel in CHANNELS if channel != "site"})

# message key -> (title, body); parameters are filled in at reading time, in the reader's language.
MESSAGES = {
    "introduction_proposed": (
        _l("New introduction proposed"),
        _l("%(broker)s proposes that %(need_org)s and %(offer_org)s talk: need \"%(need)s\", offer \"%(offer)s\". "
           "Please accept or decline.")),
    "introduction_requested": (
        _l("%(requester_org)s asks to be introduced"),
        _l("%(requester_org)s asks your organisation for an introduction (%(purpose)s) about \"%(subject)s\". "
           "Message: %(message)s Please accept or decline.")),
    "message_new": (
        _l("New messages from %(other_org)s"),
        _l("There are new messages in your introduction with %(other_org)s about \"%(subject)s\".")),
    "message_reported": (
        _l("A message was reported"),
        _l("A message in the introduction between %(need_org)s and %(offer_org)s was reported: %(reason)s")),
    "introduction_reminder": (
        _l("An introduction is waiting for your answer"),
        _l("The introduction of need \"%(need)s\" and offer \"%(offer)s\" expires on %(expires)s. "
           "Please accept or decline before then.")),
    "introduction_accepted": (
        _l("%(org)s accepted the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": the other side has not answered yet.")),
    "introduction_declined": (
        _l("%(org)s declined the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\". Reason: %(reason)s")),
    "introduction_open": (
        _l("Both sides accepted the introduction"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": the deal pipeline starts now.")),
    "introduction_expired": (
        _l("An introduction request expired"),
        _l("Nobody answered in time for need \"%(need)s\" and offer \"%(offer)s\".")),
    "stage_changed": (
        _l("Introduction moved to: %(stage)s"),
        _l("Need \"%(need)s\", offer \"%(offer)s\": from %(from_stage)s to %(stage)s. %(reason)s")),
    "followup_due": (
        _l("Follow-up due: %(title)s"),
        _l("Due on %(due)s, on the introduction of need \"%(need)s\" and offer \"%(offer)s\".")),
    "followup_overdue": (
        _l("Follow-up overdue: %(title)s"),
        _l("It was due on %(due)s (owner: %(owner)s), on the introduction of need \"%(need)s\" "
           "and offer \"%(offer)s\".")),
    "strong_match": (
        _l("A strong new match for your need"),
        _l("\"%(offer)s\" (%(offer_org)s) is now the best match for your need \"%(need)s\".")),
    "rating_request": (
        _l("How did the introduction go?"),
        _l("The introduction of need \"%(need)s\" and offer \"%(offer)s\" ended as \"%(outcome)s\" "
           "some months ago. Please tell us what has become of it.")),
    "saved_search": (
        _l("New results for your saved search"),
        Plural("%(count)s new result for \"%(name)s\".", "%(count)s new results for \"%(name)s\".")),
    "access_requested": (
        _l("%(org)s asks to see the details of \"%(title)s\""),
        _l("%(user)s (%(org)s) asks for access to the details. Message: %(message)s")),
    "access_approved": (
        _l("Access granted: \"%(title)s\""),
        _l("%(org)s approved your request to see the details.")),
    "access_declined": (
        _l("Access declined: \"%(title)s\""),
        _l("%(org)s declined your request to see the details.")),
    "event_cancelled": (
        _l("Event cancelled: %(title)s"),
        _l("The event \"%(title)s\" you registered for is cancelled. %(reason)s")),
    "event_promoted": (
        _l("You have a place: %(title)s"),
        _l("A place became free at \"%(title)s\" and your registration moved from the waiting list.")),
    "event_reminder": (
        _l("Reminder: %(title)s"),
        _l("The event \"%(title)s\" you registered for is coming soon.")),
    "event_schedule": (
        _l("Meeting schedule: %(title)s"),
        _l("The schedule of one-to-one meetings at \"%(title)s\" is ready.")),
    "verification_approved": (
        _l("%(org)s is now verified"),
        _l("A platform operator checked the credit code and business licence of %(org)s. The organisation now "
           "shows the verified badge.")),
    "verification_rejected": (
        _l("Verification of %(org)s was not approved"),
        _l("A platform operator could not verify %(org)s. Reason: %(reason)s You may send a corrected request.")),
    "account_locked": (
        _l("Your account was locked after failed log-ins"),
        _l("Someone tried to log in to your account %(attempts)s times with a wrong password (last from "
           "address %(address)s). To protect it, the account is locked until %(until)s (%(zone)s). If this "
           "was not you, tell the platform operator.")),
    "registration_attempt": (
        _l("Someone tried to register with your e-mail address"),
        _l("Someone tried to create a new TechBridge account with your e-mail address. You already have an "
           "account: log in with it (your password is unchanged). If this was not you, you can ignore this "
           "message.")),
    "offer_approved": (
        _l("Your offer \"%(offer)s\" was approved"),
        _l("A platform operator approved \"%(offer)s\". It will be published with the next batch.")),
    "offer_changes_requested": (
        _l("Your offer \"%(offer)s\" was sent back for changes"),
        _l("A platform operator asks for changes to \"%(offer)s\": %(reason)s Edit the offer and submit it again.")),
    "offer_rejected": (
        _l("Your offer \"%(offer)s\" was not approved"),
        _l("A platform operator did not approve \"%(offer)s\". Reason: %(reason)s")),
    "offers_published": (
        _l("Published in batch %(number)s: %(count)s of your offers"),
        _l("\"%(batch)s\" is out. Your published offers: %(offers)s.")),
    "offer_submitted": (
        _l("New offer to verify: \"%(offer)s\""),
        _l("%(org)s submitted \"%(offer)s\" (%(kind)s) for verification.")),
    "organization_submitted": (
        _l("New organisation to verify: %(org)s"),
        _l("%(org)s sent its credit code and business licence for verification.")),
    "meeting_requested": (
        _l("%(requester)s asks for a 1:1 meeting"),
        _l("About \"%(item)s\" at \"%(title)s\". Reason: %(reason)s Please accept or decline.")),
    "meeting_accepted": (
        _l("Your 1:1 meeting request was accepted"),
        _l("%(presenter)s accepted to meet you about \"%(item)s\" at \"%(title)s\". The time follows with "
           "the meeting schedule.")),
    "meeting_declined": (
        _l("Your 1:1 meeting request was declined"),
        _l("%(presenter)s declined to meet about \"%(item)s\" at \"%(title)s\". %(reason)s")),
    # 1:1 meetings between any two participants of an event (services/events/meeting_news.py)
    "meeting_asked": (
        _l("%(requester)s asks to meet you at \"%(title)s\""),
        _l("Reason: %(reason)s Proposed time: %(when)s. Accept with a time you are both free, or decline.")),
    "meeting_booked": (
        _l("1:1 meeting booked: %(when)s"),
        _l("The meeting between %(requester)s and %(presenter)s at \"%(title)s\" is at %(when)s. It is in "
           "your agenda and calendar.")),
    "meeting_accepted_untimed": (
        _l("Your 1:1 meeting request was accepted"),
        _l("%(presenter)s accepted to meet you at \"%(title)s\". The time follows with the meeting schedule.")),
    "meeting_turned_down": (
        _l("Your 1:1 meeting request was declined"),
        _l("%(presenter)s declined to meet at \"%(title)s\". %(reason)s")),
    "meeting_moved": (
        _l("A 1:1 meeting was moved: %(when)s"),
        _l("%(who)s moved your meeting at \"%(title)s\" to %(when)s.")),
    "meeting_cancelled": (
        _l("A 1:1 meeting was cancelled"),
        _l("%(who)s cancelled your meeting at \"%(title)s\". %(reason)s")),
    "meeting_expired": (
        _l("Your 1:1 meeting request lapsed"),
        _l("%(presenter)s did not answer your request at \"%(title)s\" in time. You may ask again or ask "
           "someone else.")),
    "presenter_assigned": (
        _l("You present at \"%(title)s\""),
        _l("You were put on the agenda to present \"%(item)s\" at %(starts)s. Attendees may ask you for "
           "1:1 meetings.")),
    "measure_changed": (
        _l("A support measure may fit %(org)s: %(measure)s"),
        _l("The park published or changed \"%(measure)s\". From what it knows, %(org)s may qualify: see the "
           "conditions, what is missing, and file a project.")),
    "measure_reminder": (
        _l("%(org)s may qualify for %(measure)s"),
        _l("%(org)s likely qualifies for \"%(measure)s\" and has not filed for it yet. See the conditions and "
           "file a project.")),
    "survey_invitation": (
        _l("Survey for %(org)s: %(survey)s"),
        _l("The park asks %(org)s to answer \"%(survey)s\" by %(closes)s. It takes a few minutes.")),
    "survey_reminder": (
        _l("Reminder: %(survey)s"),
        _l("%(org)s has not answered \"%(survey)s\" yet; it closes on %(closes)s.")),
    "event_feedback_request": (
        _l("How was \"%(title)s\"?"),
        _l("The event \"%(title)s\" has ended. Please rate it from 1 to 5 and tell the organiser what to "
           "improve; it takes a minute.")),
    # open challenges (kinds challenge_*, proposal_feedback)
    "challenge_submitted": (
        _l("New challenge to verify: \"%(title)s\""),
        _l("%(org)s submitted the challenge \"%(title)s\" for verification.")),
    "challenge_approved": (
        _l("Your challenge \"%(title)s\" is published"),
        _l("A platform operator approved \"%(title)s\". Solvers can now ask questions and submit proposals "
           "until %(deadline)s.")),
    "challenge_sent_back": (
        _l("Your challenge \"%(title)s\" was sent back for changes"),
        _l("A platform operator asks for changes to \"%(title)s\": %(reason)s Edit the challenge and submit it "
           "again.")),
    "challenge_rejected": (
        _l("Your challenge \"%(title)s\" was not approved"),
        _l("A platform operator did not approve \"%(title)s\". Reason: %(reason)s")),
    "challenge_question_asked": (
        _l("New question on \"%(title)s\""),
        _l("%(org)s asks: %(question)s")),
    "challenge_clarified": (
        _l("Clarification %(number)s of \"%(title)s\""),
        _l("The challenger published clarification %(number)s: %(body)s")),
    "challenge_answered_privately": (
        _l("Your question on \"%(title)s\" was answered"),
        _l("Answer (only you see it): %(answer)s")),
    "proposal_submitted": (
        _l("New proposal for \"%(title)s\""),
        _l("%(org)s submitted a proposal: \"%(proposal)s\".")),
    "proposal_withdrawn": (
        _l("A proposal for \"%(title)s\" was withdrawn"),
        _l("%(org)s withdrew the proposal \"%(proposal)s\".")),
    "challenge_invited": (
        _l("You are invited to take on \"%(title)s\""),
        _l("%(org)s invites your organisation to propose a solution before %(deadline)s. %(message)s")),
    "proposal_shortlisted": (
        _l("Your proposal for \"%(title)s\" is shortlisted"),
        _l("\"%(proposal)s\" is on the shortlist. %(feedback)s")),
    "proposal_more_requested": (
        _l("More information asked for \"%(proposal)s\""),
        _l("The challenger of \"%(title)s\" asks: %(request)s")),
    "proposal_not_selected": (
        _l("Your proposal for \"%(title)s\" was not selected"),
        _l("\"%(proposal)s\" was not selected. Feedback: %(feedback)s")),
    "challenge_award_won": (
        _l("Your proposal won \"%(title)s\""),
        _l("\"%(proposal)s\" was awarded. An introduction with %(org)s is open in the deal pipeline.")),
    "challenge_award_made": (
        _l("\"%(title)s\" was awarded"),
        _l("The challenge was awarded to %(org)s (\"%(proposal)s\").")),
    "challenge_panel_named": (
        _l("You are on the evaluation panel of \"%(title)s\""),
        _l("%(org)s named you to evaluate the proposals of \"%(title)s\". Declare conflicts of interest, then "
           "score each proposal against the criteria.")),
    "challenge_milestone_delivered": (
        _l("Milestone delivered: %(milestone)s"),
        _l("%(org)s delivered \"%(milestone)s\" of \"%(title)s\". Please check and accept it.")),
}
DIGEST_SUBJECT = Plural("Your TechBridge digest: %(count)s notification",
                        "Your TechBridge digest: %(count)s notifications")
