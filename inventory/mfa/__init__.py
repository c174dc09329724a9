"""The staff's second factor: a TOTP app on a phone plus ten single-use backup codes (django-otp's
otp_totp and otp_static). Who must have one is `policy`; enrolling, checking and resetting are
`devices`; the half-finished login between password and code is `sessions`."""
