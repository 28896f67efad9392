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

static struct node* pop(long i) {
  for (;;) {
    struct node* h = head;
    if (h == NULL) return NULL;
    struct node* n = h->next;
    long acc = 0;
    RACE_WINDOW(acc, i + 1, (long)n);
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
    struct node* a = pop(i);
    struct node* b = pop(i);
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
