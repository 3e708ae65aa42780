"""Reads of an introduction's conversation: its messages, oldest first, for the people who may read it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.models import Introduction, IntroductionMessage
from marketplace.queries.paging import MAX_ID, Page, fetch_page
from marketplace.services import conversations  # who may read a thread is the conversation rule


def list_messages(viewer, intro: Introduction, *, after_id: int = 0, page: int = 1, per_page: int) -> Page:
    """Messages of ``intro`` after ``after_id``, oldest first; NotFound unless ``viewer`` may read the thread."""
    conversations.require_thread(viewer, intro)
    after_id = min(max(0, int(after_id or 0)), MAX_ID)
    query = (select(IntroductionMessage)
             .where(IntroductionMessage.introduction_id == intro.id, IntroductionMessage.id > after_id)
             .options(selectinload(IntroductionMessage.author), selectinload(IntroductionMessage.attachment))
             .order_by(IntroductionMessage.id))
    return fetch_page(query, page, per_page)
