# multiprocessing under rrx (tests/e2e/shared_memory.sh): Pool, Queue,
# ProcessPoolExecutor, Value + Lock. POSIX semaphores and the heap live in
# shared memory (/dev/shm), which replay must share between the processes.
import multiprocessing as mp, sys, concurrent.futures as cf
def sq(x): return x * x
def worker(q, n):
    for i in range(n): q.put(i * 3)
    q.put(None)
if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "pool":
        with mp.Pool(2) as p:
            print(sum(p.map(sq, range(200))))
    elif mode == "queue":
        q = mp.Queue()
        pr = mp.Process(target=worker, args=(q, 100)); pr.start()
        tot = 0
        while True:
            v = q.get()
            if v is None: break
            tot += v
        pr.join(); print("queue total", tot, pr.exitcode)
    elif mode == "executor":
        with cf.ProcessPoolExecutor(max_workers=2) as ex:
            print(list(ex.map(sq, range(20))))
    elif mode == "value":
        v = mp.Value('i', 0); lock = mp.Lock()
        def inc(v, lock):
            for _ in range(100):
                with lock: v.value += 1
        ps = [mp.Process(target=inc, args=(v, lock)) for _ in range(2)]
        [p.start() for p in ps]; [p.join() for p in ps]; print("value", v.value)
