"""SIP signalling and call control on sippy. Imports only ``media`` of Hotline."""
