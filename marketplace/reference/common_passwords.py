"""The most common passwords of public breach lists (lower case), refused at registration and password change.

A password is refused when it is one of these, or one of these followed by digits and symbols
(``password1234``, ``qwerty!2024``); see ``services.accounts.check_password_strength``.
"""
COMMON_PASSWORDS = frozenset("""
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football monkey
letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman
andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars klaster 112233 george
computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa
ginger princess joshua cheese amanda summer love ashley nicole chelsea biteme matthew access yankees 987654321
dallas austin thunder taylor matrix minecraft william corvette hello martin heather secret merlin diamond 1234qwer
gfhjkm hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111
golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro
peanut morgan welcome falcon cowboy ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal eagles
melissa boomer booboo spider nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234
compaq purple hardcore banana junior hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999
ncc1701 coffee scooby 0000 miller boston q1w2e3r4 fuckoff brandon yamaha chester mother forever johnny edward 333333
oliver redsox player nikita knight fender barney midnight please brandy chicago badboy slayer rangers charles angel
flower bigdaddy rabbit wizard jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter
prince panties marine ghbdtn fishing cocacola casper james 232323 raiders 888888 marlboro gandalf asdfasdf crystal
87654321 12344321 golden 8675309 blowme bigtits barcelona passw0rd p@ssw0rd p@ssword password1 password123 admin
administrator root toor qwerty123 qwertyui asdfghjkl zaq12wsx abcd1234 abcdef abcdefg abcdefgh iloveyou1 letmein1
welcome1 changeme change-me default guest login user demo techbridge woaini woaini1314 5201314 1314520 aini1314
qq123456 a123456 a12345678 aa123456 abc123456 123456a 123456abc 147258369 147258 159357 123abc 1qazxsw2 wang123456
zhang123456 li123456 huang123 beijing shanghai china zhongguo nihao asd123 asd123456 qweasd qweasdzxc 1q2w3e4r5t
""".split())
