// Racy program: the ABA problem of a lock-free stack (a CAS on the head
// pointer, no tag). Two threads repeat: pop a, pop b, push a, <work>, push b.
// A pop preempted between reading head (X) and next (Y) and its CAS succeeds
// if the other thread has meanwhile popped X and Y and pushed X back: head
// becomes Y, which the other thread still holds. At the end the stack must
// hold the 4 nodes once each; exits 1 ("corrupted") otherwise.
//
// rrx-e2e: later (racy; tests/e2e/chaos.sh records it)
#include <pthread.h>
#include <stdio.h>

#include "race_window.h"

// The workers start together (the last to arrive wakes the other).
static pthread_barrier_t start;

#define NODES 4
#define N 2000

struct node {
  struct node* next;
  int id;
};

static struct node nodes[NODES];
static struct node* volatile head;

// `step`: distinct for every call (worker passes 2i+1 and 2i+2), so that no
// two passes of the window have the same registers. rrx finds a recorded
// preemption point again by its address and registers (README, "Not yet"):
// once the race has made the stack a cycle, both pops of an iteration would
// otherwise run the window with the same registers (only their return
// addresses, on the stack, differ), and the replay would stop in the first.
static struct node* pop(long step) {
  for (;;) {
    struct node* h = head;
    if (h == NULL) return NULL;
    struct node* n = h->next;
    long acc = 0;
    RACE_WINDOW(acc, step, (long)n);
    if (__atomic_compare_exchange_n(&head, &h, n, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return h;
  }
}

static void push(struct node* x) {
  struct node* h = head;
  do {
    x->next = h;
  } while (!__atomic_compare_exchange_n(&head, &h, x, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

static void* worker(void* arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < N; i++) {
    struct node* a = pop(2 * i + 1);
    struct node* b = pop(2 * i + 2);
    if (a != NULL) push(a);
    long acc = 0;
    RACE_WINDOW(acc, i + 2, (long)b);
    if (b != NULL) push(b);
  }
  return NULL;
}

int main(void) {
  for (int i = NODES - 1; i >= 0; i--) {
    nodes[i].id = i;
    push(&nodes[i]);
  }
  pthread_t t1, t2;
  pthread_barrier_init(&start, NULL, 2);
  pthread_create(&t1, NULL, worker, NULL);
  pthread_create(&t2, NULL, worker, NULL);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  int seen[NODES] = {0}, count = 0, bad = 0;
  for (struct node* p = head; p != NULL && count <= NODES; p = p->next, count++) {
    if (seen[p->id]++) bad = 1;
  }
  printf("stack holds %d nodes%s\n", count, bad ? " with repeats" : "");
  if (bad || count != NODES) {
    printf("corrupted stack (ABA)\n");
    return 1;
  }
  return 0;
}
