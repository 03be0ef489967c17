"""The QR camera: frames from cv2.VideoCapture, a decoding cascade (zxing-cpp, then zbar), payload rules.

Modules: `decode` (the decoding method), `payload` (what the kiosk accepts), `source` (frame sources),
`scanner` (the device), `render` (QR frames and simulator files for tests and the benchmark).
Importing this package loads no driver library.
"""
