"""Writes format_cases.json: strings near valid values of each `format` pydantic emits
(valid seeds, each mutated by one or two random edits), with pydantic 2.12's verdict
when it parses them from JSON, for catalog/tests/formats.rs.

Run with pydantic 2.12.5 and email-validator installed:
    python3 catalog/tests/data/format_cases.py > catalog/tests/data/format_cases.json
"""
import json, random, datetime, uuid, ipaddress
from pydantic import TypeAdapter, AnyUrl, EmailStr
types={"date-time":datetime.datetime,"date":datetime.date,"time":datetime.time,"duration":datetime.timedelta,"uuid":uuid.UUID,"uri":AnyUrl,"email":EmailStr,"ipv4":ipaddress.IPv4Address,"ipv6":ipaddress.IPv6Address}
seeds={
"date-time":["2024-01-02T03:04:05Z","2024-12-31 23:59:59.999+01:00","2000-02-29T00:00","1999-01-01t00:00:00-0800","2024-01-02T03:04:05.5Z","1700000000","-5"],
"date":["2024-01-02","2000-02-29","1900-02-28","2024-01-02T00:00:00","86400","0"],
"time":["03:04:05","23:59","00:00:00.000001","12:00:00+05:30","12:00:00Z"],
"duration":["P1D","PT1H2M3S","P1Y2M3W4DT5H6M7.5S","1 day, 01:00:00","-P1DT1S","00:00:01","2 days, 0:00:00","P0D"],
"uuid":["12345678-1234-5678-1234-567812345678","{12345678-1234-5678-1234-567812345678}","urn:uuid:12345678-1234-5678-1234-567812345678","12345678123456781234567812345678"],
"uri":["https://example.com/a?b=c#d","http://localhost:8080","ftp://u:p@h.org/x","mailto:x@y.z","urn:a:b","file:///x","https://a.b.c/é","http://127.0.0.1/","https://[::1]/"],
"email":["a@example.com","first.last+tag@sub.example.co","Name <a@example.com>","x@y.io","a_b@c-d.org"],
"ipv4":["1.2.3.4","255.255.255.255","0.0.0.0","10.0.0.1"],
"ipv6":["::1","fe80::1","2001:db8::ff00:42:8329","::ffff:192.0.2.1","1:2:3:4:5:6:7:8"],
}
def mutate(s):
    ops=random.randint(1,2)
    s=list(s)
    for _ in range(ops):
        r=random.random()
        if r<0.3 and s: del s[random.randrange(len(s))]
        elif r<0.6: s.insert(random.randrange(len(s)+1), random.choice("0123456789-:.TZ+ /@aPDHMSx_,[]%"))
        elif s: s[random.randrange(len(s))]=random.choice("0123456789-:.TZ+ /@aPDHMSx_,")
    return "".join(s)
out=[]
seen=set()
for seed in (7, 12345):
    random.seed(seed)
    for f,t in types.items():
        ta=TypeAdapter(t)
        vals=set(seeds[f])
        for _ in range(400):
            vals.add(mutate(random.choice(seeds[f])))
        for v in sorted(vals):
            if (f, v) in seen:
                continue
            seen.add((f, v))
            try: ta.validate_json(json.dumps(v)); ok=True
            except Exception: ok=False
            out.append([f,v,ok])
print("[\n" + ",\n".join(json.dumps(x, ensure_ascii=False) for x in out) + "\n]")
