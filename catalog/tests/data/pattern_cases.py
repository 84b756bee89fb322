"""Writes pattern_cases.json: `Field(pattern=...)` patterns under pydantic's default
(Rust regex) engine, with strings and pydantic 2.12's verdict, for catalog/tests/formats.rs.

Run with pydantic 2.12.5 installed:
    python3 catalog/tests/data/pattern_cases.py > catalog/tests/data/pattern_cases.json
"""
import json
from typing import Annotated
from pydantic import TypeAdapter, Field, ConfigDict, BaseModel
pats=[r"^[A-Z]+$", r"^\d{3}-\d{4}$", r"\d", r"^\w+$", r"^[\w.-]+@[\w-]+\.\w+$", r"^\s*$", r"\bcat\b", r"^(a|b)*c$", r"^[^\s]+$", r"^.{2,5}$",
      r"^[ACDEFGHIKLMNPQRSTVWY]+$", r"^(?i:abc)$", r"(?i)^abc$", r"^[a-z]{2,}(_[a-z]+)*$", r"^\p{L}+$", r"^[[:alpha:]]+$", r"^\S+$", r"^x*$", r"^\.?$", r"^[\-+]?\d+(\.\d+)?$",
      r"^$", r"a{2}", r"^[A-Z][a-z]+(?: [A-Z][a-z]+)*$", r"^\D+$", r"^\W+$", r"^[0-9a-fA-F]{8}$", r"^\u00e9$", r"^é$", r"^\x41$", r"^[^a-z]*$", r"^\w{3}\s\w{3}$", r"^(?:\+|-)?\d+$"]
strs=["ABC","abc","Abc","123-4567","12-34567","a1","","   ","\t","cat","a cat sat","concat","ababc","c","abcd","héllo","naïve","日本","٣٤٥","x_y","a.b@c-d.io","a@b","ACDE","ACDEB","Abc Def","abc_def","deadBEEF","é","A","-1.5","+2","1.","x","xx","..","abc\n","ABC\n","a b","ab c"]
out=[]
for p in pats:
    try:
        ta=TypeAdapter(Annotated[str, Field(pattern=p)])
    except Exception as e:
        out.append([p, None, None]); continue
    for s in strs:
        try: ta.validate_json(json.dumps(s)); ok=True
        except Exception: ok=False
        out.append([p,s,ok])
print("[\n" + ",\n".join(json.dumps(x, ensure_ascii=False) for x in out) + "\n]")
