# English times in messages as the kiosk and a factory's shifts show them: 24-hour. Django's own
# "6:30 p.m." also ended a sentence in two full stops ("since 11/24/2026 6:30 p.m..").
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
