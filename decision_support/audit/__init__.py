"""The audit trail: an append-only log of sensitive reads, writes and denied access, chained by
keyed hashes (HMAC under ``AUDIT_KEY``), with signed checkpoints kept outside the database.

Write through ``services.audit_record`` (the one gate), check with ``verify.verify_chain`` or
``manage.py verify_audit``.
"""
