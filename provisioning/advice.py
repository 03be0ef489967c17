"""One table: a fault's stable code → what a technician reads (Chinese, English) and the step to
take. Device codes are the devices' own (docs/devices/*.md); `platform.*`, `disk.*`, `queue.*` and
the few device codes ending in a presence check are the self-test's."""

from __future__ import annotations

from typing import NamedTuple


class Advice(NamedTuple):
    zh: str
    en: str
    step: str


ADVICE: dict[str, Advice] = {
    # A4 printer (CUPS printer-state-reasons, docs/devices/a4_printer.md)
    "a4.paper_out": Advice("A4打印机缺纸", "A4 printer out of paper", "load A4 paper, then `cupsenable {queue}`"),
    "a4.paper_jam": Advice("A4打印机卡纸", "A4 printer paper jam", "open the printer, clear the jam, close it, then `cupsenable {queue}`"),
    "a4.cover_open": Advice("A4打印机盖板打开", "A4 printer cover open", "close the printer's cover or door, then `cupsenable {queue}`"),
    "a4.supply_empty": Advice("A4打印机耗材用尽", "A4 printer toner/ink empty", "replace the toner or ink cartridge"),
    "a4.output_full": Advice("A4出纸盘已满", "A4 output tray full", "empty the output tray"),
    "a4.tray_missing": Advice("A4纸盒未装好", "A4 paper tray missing", "push the paper tray fully in"),
    "a4.driver_error": Advice("A4打印驱动错误", "A4 printer driver (filter) missing", "re-add the queue: `kiosk-provision printer add-a4 --uri URI`"),
    "a4.printer_error": Advice("A4打印机故障", "A4 printer reports an error", "read the printer's panel; power-cycle it; then `cupsenable {queue}`"),
    "a4.offline": Advice("A4打印机离线", "A4 printer offline", "check its power and cable (USB or network)"),
    "a4.paused": Advice("A4打印队列已暂停", "A4 queue stopped", "fix the printer, then `cupsenable {queue}`"),
    "a4.not_accepting": Advice("A4打印队列拒绝任务", "A4 queue rejects jobs", "`cupsaccept {queue}`"),
    "a4.unknown_queue": Advice("找不到A4打印队列", "no such CUPS queue", "`kiosk-provision printer add-a4 --uri URI` (find the URI with `devices scan`)"),
    "a4.cups_unreachable": Advice("CUPS打印服务未运行", "cupsd not running", "`systemctl start cups`"),
    "a4.cups_unresponsive": Advice("CUPS打印服务无响应", "cupsd does not answer", "`systemctl restart cups`"),
    "a4.not_authorized": Advice("CUPS拒绝访问", "cupsd refused the request", "run as root or add the kiosk user to lpadmin"),
    "a4.job_timeout": Advice("测试页未在限时内打印完成", "test page did not complete in time", "look at the printer; `lpstat -o` lists stuck jobs"),
    "a4.job_aborted": Advice("测试页打印被中止", "test page aborted", "see `journalctl -u cups`; check the driver"),
    "a4.job_stopped": Advice("测试页打印被停止", "test page stopped", "fix the printer, then `cupsenable {queue}`"),
    # receipt printer (ESC/POS, docs/devices/receipt_printer.md)
    "receipt.paper_out": Advice("凭条打印机缺纸", "receipt printer out of paper", "load a new roll (80 or 58 mm as configured)"),
    "receipt.cover_open": Advice("凭条打印机盖板打开", "receipt printer cover open", "close the cover firmly"),
    "receipt.cutter_error": Advice("凭条打印机切刀故障", "receipt cutter jammed", "open the cover, free the cutter, power-cycle the printer"),
    "receipt.offline": Advice("凭条打印机离线", "receipt printer offline", "check the printer's panel and power"),
    "receipt.no_status_reply": Advice("凭条打印机无应答", "receipt printer does not answer status", "check the cable; if the model has no status, set supports_paper_status = false"),
    "receipt.unreachable": Advice("无法连接凭条打印机", "receipt printer unreachable", "check power and cable / network address (`kiosk-provision devices scan`)"),
    "receipt.timeout": Advice("凭条打印机写入超时", "receipt printer write timed out", "check the cable; power-cycle the printer"),
    "receipt.busy": Advice("凭条打印机被占用", "receipt printer busy (usblp)", "unload the usblp kernel module or use the escpos-usb backend's udev rule"),
    # ID card reader (GA/T 467, docs/devices/id_card.md)
    "id_card.no_reply": Advice("读卡器无应答", "card reader silent", "check the reader's power and cable, and the port and baud rate in the config"),
    "id_card.sam_error": Advice("读卡器安全模块故障", "card reader SAM fault", "power-cycle the reader; if it stays, replace it (SAM not authorised)"),
    "id_card.port_unavailable": Advice("找不到读卡器串口", "card reader port missing", "plug the reader in; `kiosk-provision devices scan` lists serial ports"),
    "id_card.port_error": Advice("读卡器串口故障", "card reader port failed", "re-plug the reader; check the cable"),
    "id_card.truncated": Advice("读卡器应答不完整", "card reader replies cut short", "check the baud rate (115200) and the cable"),
    "id_card.bad_checksum": Advice("读卡器应答校验错误", "card reader replies garbled", "check the baud rate and the cable"),
    "id_card.reader_error": Advice("读卡器报告错误", "card reader reports an error", "power-cycle the reader"),
    "id_card.no_card": Advice("读卡器上没有证件", "no card on the reader", "put a test ID card on the reader (its data is not read)"),
    # QR camera (docs/devices/qr_camera.md)
    "qr.open_failed": Advice("无法打开摄像头", "camera missing or cannot be opened", "plug the camera in; `kiosk-provision devices scan` lists cameras"),
    "qr.source_lost": Advice("摄像头无画面", "camera delivers no frames", "re-plug the camera; try another USB port"),
    "qr.no_frame": Advice("摄像头无画面", "camera delivers no frames", "re-plug the camera; try another USB port"),
    "qr.end_of_stream": Advice("摄像头视频源已结束", "camera source ended", "check the configured source"),
    "qr.black_frame": Advice("摄像头画面全黑", "camera picture is black", "remove the lens cover, check the light; replace the camera if it stays black"),
    "qr.no_test_code": Advice("未识别到测试二维码", "no test QR seen", "hold the test receipt's QR code 15-30 cm in front of the camera"),
    # platform
    "platform.unreachable": Advice("无法连接平台", "platform unreachable", "check the network, DNS and platform.url"),
    "platform.tls_mismatch": Advice("平台证书与地址不符", "TLS certificate does not match the platform's name", "use the name the certificate was issued for in platform.url, or have the platform's certificate reissued"),
    "platform.tls_untrusted": Advice("平台证书不受信任", "TLS certificate not trusted", "give the platform's CA with --ca-bundle (enroll) or platform.ca_bundle"),
    "platform.tls_expired": Advice("平台证书已过期", "TLS certificate expired (or the clock is wrong)", "check this terminal's clock; have the certificate renewed"),
    "platform.tls_error": Advice("与平台的TLS握手失败", "TLS handshake failed", "check platform.url (https port) and any proxy"),
    "platform.unhealthy": Advice("平台运行异常", "platform reports a problem", "tell the platform's operators (/healthz is not ok)"),
    "platform.clock_skew": Advice("终端时钟偏差过大", "clock skewed", "set the time: `timedatectl set-ntp true` (or `timedatectl set-time`)"),
    "platform.not_enrolled": Advice("终端尚未注册", "terminal not enrolled", "`kiosk-provision enroll --platform URL --token-file F`"),
    "platform.terminal_refused": Advice("平台不认可本终端", "platform refuses this terminal (revoked or unknown)", "enroll again with a new token: `kiosk-provision enroll --force ...`"),
    "platform.signature_refused": Advice("平台拒绝终端签名", "platform refuses the terminal's signature", "check the clock; enroll again if it persists"),
    # this machine
    "disk.nearly_full": Advice("磁盘空间不足", "disk nearly full", "free space: `journalctl --vacuum-size=100M`, remove old files"),
    "disk.low": Advice("磁盘空间偏少", "disk space getting low", "free space soon: `journalctl --vacuum-size=100M`"),
    "queue.dead_letters": Advice("离线队列有无法送达的请求", "queue holds requests the platform refused", "look at them on the staff screen (帮办 → 队列) before wiping anything"),
    "queue.pending": Advice("离线队列有待发送的请求", "queue holds requests waiting for the platform", "they go out when the platform is reachable"),
    "queue.unreadable": Advice("离线队列无法打开", "queue cannot be opened", "check offline.key_file (0600, owner kiosk); never delete it while requests wait"),
    "device.config_error": Advice("设备配置错误", "device config invalid", "`kiosk-provision devices set KIND ...`"),
    "device.driver_missing": Advice("缺少设备驱动库", "device driver library missing", "install what the message names"),
    "system.file_access": Advice("文件无法读取", "a file or device cannot be opened", "check the path and its owner and mode (run as the kiosk user or root)"),
}  # fmt: skip


def advice_for(code: str | None) -> Advice | None:
    return ADVICE.get(code or "")


def fault_line(code: str | None, detail: str, **names: str) -> tuple[str, str]:
    """(what is wrong, the step to take) for a fault; an unknown code falls back on the detail."""
    found = advice_for(code)
    if found is None:
        return detail or (code or "failed"), "see the details; `kiosk-provision diagnostics`"
    what = f"{found.zh} {found.en}" + (f" ({detail})" if detail else "")
    return what, found.step.format_map(_Names(names))


class _Names(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a name the caller does not know stays a placeholder
        return "{" + key + "}"
