"""The walk-through's other modes: elderly mode, English and a portrait 1080x1920 window, each a
shorter path than the default walk that shows the screens issue 17 fixed, written to
`screens/<mode>/` and listed under `modes` in summary.json (docs/kiosk.md).

- elderly: a card with two enterprises, the custom period, all 38 domains in one tap, a summary with 37 clean domains,
  an objection with "other" as the reason and its printed slip, the report printed, the idle
  countdown dialog;
- en: a login QR (no enterprise step in the step bar, no card to take away), the domain picker with
  nothing chosen, English plurals, an error screen with its next step (the same login QR again),
  a report that cannot be verified, the 2017 foreigner card signing in, a card that was read but
  cannot be used (the login QR and help offered, never "place it again");
- portrait: two enterprises, the custom period, the domain picker, a summary with records, an
  objection form, the report printed.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.core.window import Window

from kiosk.steps import Step

from .walkthrough import (
    CARD_FOREIGN_2017,
    CARD_ONE_ENTERPRISE,
    CARD_REFUSED,
    CARD_TWO_ENTERPRISES,
    WalkThrough,
)

LANDSCAPE, PORTRAIT = (1920, 1080), (1080, 1920)
NOT_A_REPORT = "Z9Z9Z9Z9Z9Z9"  # shaped like a verification code; no report has it


def run_tours(w: WalkThrough) -> None:
    elderly_mode = w.mode("elderly", language="zh_CN", elderly=True, window=list(LANDSCAPE))
    with elderly_mode, w.scene("elderly: custom period, every domain, objection, countdown"):
        elderly(w)
    english_mode = w.mode("en", language="en", elderly=False, window=list(LANDSCAPE))
    with english_mode, w.scene("English: login QR, plurals, next steps, a foreigner's card"):
        english(w)
    with w.mode("portrait", language="zh_CN", elderly=False, window=list(PORTRAIT)):
        resize(w, PORTRAIT)
        try:
            with w.scene("portrait: two enterprises to a printed report"):
                portrait(w)
        finally:
            resize(w, LANDSCAPE)


def resize(w: WalkThrough, size: tuple[int, int]) -> None:
    w.robot.on_kivy(lambda: setattr(Window, "size", size))
    w.robot.settled()


def custom_period(w: WalkThrough, start_year: int, start_month: int) -> None:
    """Custom period in three taps: the start's year and month (the end stays today)."""
    r = w.robot
    r.tap(w.t("period.custom"))
    r.tap(w.t("period.year_value", value=start_year))
    r.tap(w.t("period.month_value", value=start_month))


def sent(w: WalkThrough, start: str) -> None:
    """Until the journey has taken the custom period (the screen sends it after a pause)."""

    def taken() -> bool:
        snapshot = w.robot.snapshot
        period = None if snapshot is None else snapshot.period
        return period is not None and period.start.isoformat() == start

    w.robot.wait(taken, what=lambda: f"the custom period from {start}")


def elderly(w: WalkThrough) -> None:
    r = w.robot
    w.step("attract", Step.ATTRACT, lambda: r.tap(w.t("attract.elderly")))
    # the enterprise whose one shown record the default walk printed without objecting: the
    # platform refuses a second objection to a record while the first is open
    two = w.people[CARD_TWO_ENTERPRISES]
    w.step("card_on_reader", Step.CHOOSE_ENTERPRISE,
           lambda: w.rig.insert_card(CARD_TWO_ENTERPRISES))  # fmt: skip
    w.step("choose_enterprise", Step.CHOOSE_SCOPE, lambda: r.tap_value(two.enterprises[1]))
    custom_period(w, 2024, 1)
    sent(w, "2024-01-01")
    w.step("custom_period", Step.CHOOSE_SCOPE)
    w.step("domain_picker", Step.CHOOSE_DOMAINS, lambda: r.tap(w.t("scope.some_domains")))
    w.step("every_domain_in_one_tap", Step.CHOOSE_DOMAINS, lambda: r.tap(w.t("domains.select_all")))
    w.step("domains_done", Step.CHOOSE_SCOPE, lambda: r.tap(w.t("domains.done")))
    w.step("confirm", Step.CONFIRM, lambda: r.tap(w.t("button.next")))
    w.step("summary_37_clean_domains", Step.SUMMARY, lambda: r.tap(w.t("confirm.go")))
    w.step("objection_form", Step.OBJECTION, lambda: r.tap(w.t("summary.objection")))
    r.tap(w.t("objection.reason.other"))  # the reason that used to hide under the submit button
    r.type_keys("13912345678")
    w.step("objection_filed", Step.OBJECTION_DONE, lambda: r.tap(w.t("objection.submit")))
    w.wait_receipt("objection_slip")
    r.wait(lambda: w.robot.snapshot is not None and not w.robot.snapshot.print_phase)
    w.step("objection_slip_printed", Step.OBJECTION_DONE)
    w.step("back_to_summary", Step.SUMMARY, lambda: r.tap(w.t("objection_done.back")))
    w.step("printed", Step.DONE, lambda: r.tap(w.t("summary.print")))
    w.wait_receipt("elderly_receipt")
    r.wait(counting(w), w.rig.kiosk.config.ui.idle_timeout_s + 10, lambda: "no countdown")
    w.step("idle_countdown_dialog", Step.DONE)
    w.step("continue", Step.DONE, lambda: r.tap(w.t("countdown.continue")))
    w.expect(not counting(w)(), "the countdown stayed after 继续办理")


def counting(w: WalkThrough) -> Callable[[], bool]:
    def check() -> bool:
        snapshot = w.robot.snapshot
        return snapshot is not None and snapshot.countdown is not None

    return check


def english(w: WalkThrough) -> None:
    r = w.robot
    one = w.people[CARD_ONE_ENTERPRISE]
    w.step("attract", Step.ATTRACT, lambda: r.tap(w.t("attract.language")))
    payload = w.platform.login_qr(one.id_number)
    w.step("login_qr", Step.CHOOSE_SCOPE, lambda: w.rig.camera.show(payload))
    w.rig.camera.clear()
    w.step("domain_picker_nothing_chosen", Step.CHOOSE_DOMAINS,
           lambda: r.tap(w.t("scope.some_domains")))  # fmt: skip
    for code in ("market_regulation", "taxation", "work_safety"):
        r.tap_value(code)
    w.step("domains_chosen", Step.CHOOSE_SCOPE, lambda: r.tap(w.t("domains.done")))
    w.step("confirm", Step.CONFIRM, lambda: r.tap(w.t("button.next")))
    w.step("summary_one_record", Step.SUMMARY, lambda: r.tap(w.t("confirm.go")))
    w.step("printed_after_qr_login", Step.DONE, lambda: r.tap(w.t("summary.print")))
    w.wait_receipt("english_receipt")
    w.step("finish", Step.ATTRACT, lambda: r.tap(w.t("done.finish")))
    # the session ended: the hall's language again; the same login QR a second time
    r.tap(w.t("attract.language"))
    w.step("error_with_next_step", Step.ERROR, lambda: w.rig.camera.show(payload))
    w.rig.camera.clear()
    w.step("home", Step.ATTRACT, lambda: r.tap(w.t("button.home")))
    r.tap(w.t("attract.language"))
    w.step("verify_scan", Step.VERIFY_SCAN, lambda: r.tap(w.t("attract.verify")))
    url = f"{w.platform.base_url}/v1/verify/{NOT_A_REPORT}"
    w.step("verify_not_found", Step.VERIFY_RESULT, lambda: w.rig.camera.show(url))
    w.rig.camera.clear()
    w.step("home_again", Step.ATTRACT, lambda: r.tap(w.t("button.home")))
    r.tap(w.t("attract.language"))
    w.step("foreigner_card_2017", Step.CHOOSE_SCOPE, lambda: w.rig.insert_card(CARD_FOREIGN_2017))
    w.go_home()
    r.tap(w.t("attract.language"))
    # a card read whole that cannot be used here: said so, with the login QR and help offered
    w.step(
        "card_not_accepted",
        Step.ATTRACT,
        lambda: w.rig.insert_card(CARD_REFUSED),
        message="error.card_not_accepted",
    )


def portrait(w: WalkThrough) -> None:
    r = w.robot
    two = w.people[CARD_TWO_ENTERPRISES]
    w.step("attract", Step.ATTRACT)
    w.step("card_on_reader", Step.CHOOSE_ENTERPRISE,
           lambda: w.rig.insert_card(CARD_TWO_ENTERPRISES))  # fmt: skip
    w.step("choose_enterprise", Step.CHOOSE_SCOPE, lambda: r.tap_value(two.enterprises[1]))
    custom_period(w, 2023, 6)
    sent(w, "2023-06-01")
    w.step("custom_period", Step.CHOOSE_SCOPE)
    w.step("domain_picker", Step.CHOOSE_DOMAINS, lambda: r.tap(w.t("scope.some_domains")))
    r.tap(w.t("domains.select_all"))
    w.step("domains_done", Step.CHOOSE_SCOPE, lambda: r.tap(w.t("domains.done")))
    w.step("confirm", Step.CONFIRM, lambda: r.tap(w.t("button.next")))
    w.step("summary_with_records", Step.SUMMARY, lambda: r.tap(w.t("confirm.go")))
    record = "RDEMO000001"  # one of the company's two records
    w.step("objection_form", Step.OBJECTION, lambda: r.tap_value(record))
    w.step("back_to_summary", Step.SUMMARY, lambda: r.tap(w.t("button.back")))
    w.step("printed", Step.DONE, lambda: r.tap(w.t("summary.print")))
    w.wait_receipt("portrait_receipt")
