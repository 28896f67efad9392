# Dumps a structure to JSON, loads it back, prints both and a digest.
import hashlib
import json

data = {
    "name": "rrx",
    "numbers": list(range(20)),
    "nested": {"pi": 3.14159, "ok": True, "none": None, "text": "ünïcödé ✓"},
    "matrix": [[i * j for j in range(5)] for i in range(5)],
}
text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False)
back = json.loads(text)
print(text)
print("round trip equal:", back == data)
print("sha256:", hashlib.sha256(text.encode()).hexdigest())
