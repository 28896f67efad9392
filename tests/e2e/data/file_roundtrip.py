# file_roundtrip.py DIR: writes files in DIR, reads them back, lists DIR.
import os
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for i in range(5):
    with open(os.path.join(d, f"file{i}.txt"), "w") as f:
        f.write(f"line {i}\n" * (i + 1))
with open(os.path.join(d, "blob.bin"), "wb") as f:
    f.write(bytes(range(256)) * 100)
total = 0
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    with open(p, "rb") as f:
        content = f.read()
    total += len(content)
    st = os.stat(p)
    print(name, len(content), st.st_size, st.st_mtime_ns, st.st_ino)
print("total", total)
print("cwd", os.getcwd())
