"""The receipt printer: ESC/POS over USB, serial, network or a file, plus its TCP simulator.

Modules: `model` (what a receipt says), `layout` (the exact byte stream), `encoding` (GB18030 text),
`commands` (ESC/POS bytes), `backends` (registry factories), `device` (`ReceiptPrinter`), `transport`
(python-escpos links), `decoder`/`decoded` (stream -> structure), `simulator`, `preview` (PNG).
Only `backends` and `transport` import python-escpos.
"""
