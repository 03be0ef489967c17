"""Which on-screen message each platform error code gets (the catalogs hold the words)."""

from __future__ import annotations

# platform error code -> i18n message id; anything unlisted gets "error.request_refused"
_BY_CODE: dict[str, str] = {
    "session_required": "error.session_expired",
    "session_invalid": "error.session_expired",
    "session_expired": "error.session_expired",
    "person_not_found": "error.person_not_found",
    "identity_mismatch": "error.not_authorized",
    "not_authorized_for_entity": "error.not_authorized",
    "id_card_expired": "error.card_expired",
    # the card was read; the platform cannot take its number: a login QR or staff instead
    "invalid_id_number": "error.card_not_accepted",
    "login_qr_invalid": "error.login_qr_invalid",
    "login_qr_used": "error.login_qr_used",
    "login_qr_expired": "error.login_qr_expired",
    "entity_not_found": "error.entity_unavailable",
    "entity_outside_region": "error.entity_unavailable",
    "invalid_uscc": "error.entity_unavailable",
    "period_reversed": "error.period_invalid",
    "period_in_future": "error.period_invalid",
    "period_before_floor": "error.period_invalid",
    "period_too_long": "error.period_invalid",
    "invalid_domains": "error.domains_invalid",
    "unknown_domain": "error.domains_invalid",
    "report_not_found": "error.report_not_found",
    "ticket_not_found": "error.report_not_found",
    "record_not_in_report": "error.objection_invalid",
    "invalid_reason": "error.objection_invalid",
    "invalid_contact": "error.objection_invalid",
    "objection_exists": "error.objection_exists",
    "report_revoked": "error.report_revoked",
    "unprintable_character": "error.report_unprintable",
    "entity_kind_not_eligible": "error.entity_not_eligible",
    "too_many_attempts": "error.too_many_attempts",
    "records_unconfirmed": "error.records_unconfirmed",
    # a login QR honoured late fetches its queued report only
    "session_restricted": "error.session_expired",
    # the terminal itself is refused: staff must act, the user cannot
    "signature_missing": "error.out_of_service",
    "bad_timestamp": "error.out_of_service",
    "stale_timestamp": "error.clock_skew",
    "bad_nonce": "error.out_of_service",
    "unknown_terminal": "error.out_of_service",
    "bad_signature": "error.out_of_service",
    "replayed_nonce": "error.out_of_service",
    "not_enrolled": "error.out_of_service",
    "invalid_enrollment_token": "error.out_of_service",
    "enrollment_token_used": "error.out_of_service",
}

# refusals the person can answer at once where they are: a login QR at the attract screen
ANSWERED_ON_ATTRACT = frozenset({"error.card_not_accepted"})

# refusals nothing on the screen that asked can change: the error screen and its next step
DEAD_ENDS = frozenset(
    {
        "error.entity_not_eligible",
        "error.report_unprintable",
        "error.report_revoked",
        "error.records_unconfirmed",
    }
)

# codes after which the terminal cannot serve anyone until a technician acts
TERMINAL_FAULT_CODES = frozenset(
    code for code, mid in _BY_CODE.items() if mid in ("error.out_of_service", "error.clock_skew")
)


# refusals of the hall's staff pages, or of calls a person's session never makes: when one does
# reach a kiosk, "error.request_refused" (start again, then the credit window) is the right answer
GENERIC_ON_PURPOSE = frozenset({
    "malformed_json", "method_not_allowed", "request_timeout", "payload_too_large",
    "invalid_request", "invalid_public_key", "invalid_idempotency_key", "idempotency_key_reused",
    "staff_login_required", "login_failed", "account_locked", "not_this_terminal", "not_your_hall",
    "csrf_failed", "cross_site_login", "command_not_allowed", "metrics_forbidden", "not_found",
    "help_call_not_found", "alert_not_found", "command_not_found", "terminal_not_found",
    "bundle_not_found",
    "call_id_reused", "help_call_already", "help_call_ambiguous", "command_finished",
    "terminal_never_seen", "events_racing", "unknown_command", "event_time_out_of_range",
    "invalid_bundle", "too_many_requests", "too_many_logins", "weak_password",
    "invalid_username", "username_taken", "invalid_role",
})  # fmt: skip


def message_id_for(code: str) -> str:
    return _BY_CODE.get(code, "error.request_refused")
