"""Reference implementation of the credit platform side of the report API."""
