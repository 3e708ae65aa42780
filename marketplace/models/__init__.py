"""Domain models, one module per domain; importing this package registers every table."""
from marketplace.models.accounts import PLATFORM_ROLES, LoginAttempt, Membership, User, UserRole, UserSession
from marketplace.models.base import Base
from marketplace.models.brokering import Introduction, IntroductionEvent, IntroductionTask
from marketplace.models.catalogue import Batch, FinancialDetail, Offer, PatentDetail, PatentStageTally, ReviewDecision
from marketplace.models.embeddings import NeedEmbedding, OfferEmbedding
from marketplace.models.docking import IntroductionMessage, IntroductionReadMarker
from marketplace.models.challenges import (Challenge, ChallengeAward, ChallengeClarification, ChallengeConflict,
                                           ChallengeCriterion, ChallengeInvitation, ChallengeMilestone,
                                           ChallengePanelMember, ChallengeProposal, ChallengeQuestion,
                                           ChallengeScore, ChallengeSolver)
from marketplace.models.challenge_requests import ChallengeInfoRequest
from marketplace.models.confidentiality import AccessRequest, DetailAccessLog, NdaAcceptance, NdaTerms
from marketplace.models.imports import ImportRun
from marketplace.models.events import (AgendaItem, CalendarToken, Event, EventInterest, EventSeries,
                                       MeetingRequest, Registration)
from marketplace.models.event_feedback import EventFeedback, EventOutcome
from marketplace.models.idempotency import SubmissionKey
from marketplace.models.liaison import LiaisonReport, SubParkStaff
from marketplace.models.matching import MatchFeedback, MatchSuggestion
from marketplace.models.needs import Need
from marketplace.models.notifications import FollowupRating, Notification, NotificationPreference, SavedSearch
from marketplace.models.organizations import Organization, OrganizationInvitation, OrganizationVerification
from marketplace.models.outbox import SearchOutboxEntry
from marketplace.models.policy import (FundingProgramme, PolicyAnswer, PolicyFiling, PolicyFilingPart, PolicyMeasure,
                                       PolicyMeasureRevision, PolicyOffice, PolicyOfficeStaff, ProgrammeEntry)
from marketplace.models.search_terms import SearchTerm
from marketplace.models.supply_chains import SupplyChain, SupplyInput
from marketplace.models.surveys import Survey, SurveyQuestion, SurveyResponse
from marketplace.models.security import ApiToken, AuditEntry, StoredFile
from marketplace.models.taxonomy import Field

__all__ = [
    "NeedEmbedding",
    "OfferEmbedding",
    "ApiToken", "AuditEntry", "StoredFile",
    "AccessRequest", "DetailAccessLog", "NdaAcceptance", "NdaTerms",
    "AgendaItem", "Base", "Batch", "CalendarToken", "Event", "EventInterest", "EventSeries", "MeetingRequest",
    "ImportRun", "Registration", "FollowupRating", "Notification", "NotificationPreference", "SavedSearch", "Introduction", "IntroductionEvent", "IntroductionTask", "IntroductionMessage", "IntroductionReadMarker", "MatchFeedback", "MatchSuggestion", "Field", "FinancialDetail", "LoginAttempt", "Membership", "Need", "Offer", "Organization", "OrganizationInvitation",
    "OrganizationVerification",
    "PatentDetail", "PatentStageTally", "PLATFORM_ROLES", "ReviewDecision", "SearchOutboxEntry", "SearchTerm", "SubmissionKey", "User",
    "UserRole", "UserSession", "PolicyAnswer", "PolicyFiling", "PolicyFilingPart", "PolicyMeasure",
    "PolicyMeasureRevision", "PolicyOffice", "PolicyOfficeStaff", "LiaisonReport", "SubParkStaff",
    "FundingProgramme", "ProgrammeEntry", "SupplyChain", "SupplyInput",
    "Survey", "SurveyQuestion", "SurveyResponse",
    "EventFeedback", "EventOutcome",
    "Challenge", "ChallengeAward", "ChallengeClarification", "ChallengeConflict", "ChallengeCriterion",
    "ChallengeInvitation", "ChallengeMilestone", "ChallengePanelMember", "ChallengeProposal", "ChallengeQuestion",
    "ChallengeScore", "ChallengeSolver", "ChallengeInfoRequest",
]
