// The JVM under rrx: plain Threads, an ExecutorService with futures, and a
// synchronized counter. Output does not depend on scheduling.
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

public class JvmThreads {
    private static long counter = 0;

    private static synchronized void increment() {
        counter++;
    }

    public static void main(String[] args) throws Exception {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 1000; i++) {
                    increment();
                }
            }, "worker-" + t);
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        System.out.println("threads: counter = " + counter);

        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<Long>> futures = new ArrayList<>();
        for (int k = 1; k <= 6; k++) {
            final int n = k * 100;
            futures.add(pool.submit(() -> {
                long s = 0;
                for (int i = 1; i <= n; i++) {
                    s += (long) i * i;
                }
                return s;
            }));
        }
        StringBuilder sb = new StringBuilder("pool:");
        for (Future<Long> f : futures) {
            sb.append(' ').append(f.get());
        }
        pool.shutdown();
        boolean done = pool.awaitTermination(30, TimeUnit.SECONDS);
        System.out.println(sb);
        System.out.println("pool terminated: " + done);
        System.err.println("stderr: done");
    }
}
