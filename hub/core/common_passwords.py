"""A small bundled list of the passwords (and the words passwords are built from) that leaked
password lists show most often. Compared lowercased, with look-alike digits read as letters
and with the digits and symbols around the word taken off ("P@ssword2024!" is "password")."""

from __future__ import annotations

_WORDS = """
    password passwort passw0rd motdepasse contrasena senha wachtwoord salasana haslo
    qwerty qwertz azerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx qweasd
    abc abcdef abcdefgh abcdefghijkl iloveyou loveyou letmein welcome welcomeback
    admin administrator root toor login logon user guest master changeme default secret
    trustno trustnoone sunshine princess dragon monkey football baseball basketball soccer
    hockey shadow superman batman michael jennifer jordan hunter ranger buster thomas
    charlie robert daniel andrew joshua matthew jessica ashley michelle nicole amanda
    starwars pokemon whatever freedom summer winter spring autumn computer internet
    helpdesk support relaydesk service customer company office business manager
    hello helloworld test testing tester temp temporary access security secure private
    mypassword yourpassword newpassword oldpassword passpass letmeinnow nopassword
    iloveu lovely love flower cookie chocolate banana orange apple pepper ginger
    whatsup qwerty azertyuiop qwertyui asdf zaq xsw cde mustang harley ferrari porsche
    killer pussy fuckyou fuckoff blink myspace facebook google yahoo hotmail gmail
    liverpool chelsea arsenal barcelona madrid juventus united
"""
_PASSWORDS = """
    123456789012 1234567890123 12345678901234 123456789123 1234567890qwerty 0123456789ab
    111111111111 000000000000 123123123123 121212121212 987654321098 147258369147
    1q2w3e4r5t6y 1qaz2wsx3edc 1q2w3e4r5t6y7u qwe123qwe123 zaq12wsxcde3 q1w2e3r4t5y6
    qwertyuiop123 qwerty123456 password1234 password12345 password123456 iloveyou1234
    letmein12345 welcome12345 admin1234567 abc123abc123 aa123456789a correcthorsebatterystaple
    correct-horse-battery-staple changeme1234 passwordpassword qwertyqwerty
"""
WORDS = frozenset(_WORDS.split())
PASSWORDS = frozenset(_PASSWORDS.split())
