"""Open challenges (揭榜挂帅, issue 17).

Part A: ``common`` (who publishes, the deadline, registered solvers), ``publishing`` (create, edit, verify,
withdraw, close), ``questions`` (questions, answers, numbered clarifications), ``proposals`` (drafts, consortia,
submission and withdrawal until the deadline, attachments). Part B adds reverse matching, evaluation, awards and
reports beside them.
"""
