/*
 * sim_main.c - the simulator's command line: flags, the seed loop split over
 * worker processes, the violation report and the one-line summary.
 *
 *   sim --seeds N --seed S [--nodes K] [--jobs J] [--quiet] [--name NAME]
 *
 * Seeds S..S+N-1 are dealt round-robin to J forked workers; each worker runs
 * its own world single-threaded and reports totals over a pipe. The first
 * violation stops every worker. Without --nodes a seed's node count (3 or 5)
 * is derived from the seed alone, so a replay with --nodes gets the same run.
 */
#include "sim.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv_opts.h"

#define SIM_JOBS_MAX 16u
#define U(x)         ((unsigned long long)(x))

struct sim_totals {
	uint64_t seeds, sim_ms, steps, violations, bad_seed, bad_nodes;
	struct sim_stats stats;
	char what[256];
};

struct sim_flags {
	uint64_t seeds, seed, nodes, jobs;
	int quiet, stats, each, direct;
	const char *name;
	const char *prog;
	uint64_t *stop_at; /* shared by the workers: no seed above a caught one needs running */
};

static uint32_t nodes_for(const struct sim_flags *f, uint64_t seed)
{
	uint64_t h = seed * 0x9e3779b97f4a7c15ull;

	if (f->nodes)
		return (uint32_t)f->nodes;
	return ((h >> 32) & 1) ? 5 : 3;
}

static void nodes_print(const struct sim_world *w)
{
	for (uint32_t s = 0; s < SIM_SLOTS_MAX; s++) {
		const struct sim_node *nd = &w->nodes[s];
		const struct raft_status *st = &nd->st;

		if (nd->boot == 0)
			continue;
		printf(
		    "node %u: %s role %u term %llu leader %llu last %llu/%llu commit %llu applied "
		    "%llu snap %llu durable log to %llu vote %llu/%llu config",
		    s + 1, nd->state == SIM_NODE_UP ? "up" : "down", st->role, U(st->term),
		    U(st->leader), U(st->last_index), U(st->last_term), U(st->commit_index),
		    U(nd->sm.applied), U(st->snap_index), U(nd->disk.dlog.last),
		    U(nd->disk.dhs.term), U(nd->disk.dhs.vote));
		for (uint32_t i = 0; i < st->config.n; i++)
			printf(" %llu%s@%llu", U(st->config.members[i].id),
			       st->config.members[i].role == RAFT_LEARNER ? "L" : "",
			       U(st->config.members[i].incarnation));
		printf(" (incarnation %llu)\n", U(nd->incarnation));
	}
}

static void report(const struct sim_flags *f, struct sim_world *w, uint64_t seed, uint32_t nodes)
{
	if (f->quiet)
		return; /* the parent prints the lowest seed any worker caught */
	printf("sim: VIOLATION seed %llu nodes %u at %llu ms\nproperty: %s\n", U(seed), nodes,
	       U(w->now_ms), w->check.what);
	printf("faults: partitions %d crashes %d slow disks %d drift %d membership %d transfers %d "
	       "wipes %d loss %u dup %u delay<=%llu ms\n",
	       w->faults.partitions, w->faults.crashes, w->faults.slow_disks, w->faults.drift,
	       w->faults.membership, w->faults.transfers, w->faults.wipes, w->faults.loss_permille,
	       w->faults.dup_permille, U(w->faults.delay_max_ms));
	sim_trace_dump(&w->trace);
	nodes_print(w);
	printf("sim: VIOLATION seed %llu: %s\n", U(seed), w->check.what);
	if (strcmp(f->name, "sim") == 0)
		printf("replay: make sim SEEDS=1 SEED=%llu NODES=%u\n", U(seed), nodes);
	printf("replay: %s --seeds 1 --seed %llu --nodes %u --jobs 1\n", f->prog, U(seed), nodes);
	fflush(stdout);
}

/* Lowers the shared stop seed to seed: workers still below it go on, so the lowest is found. */
static void stop_after(uint64_t *stop_at, uint64_t seed)
{
	uint64_t cur = __atomic_load_n(stop_at, __ATOMIC_RELAXED);

	while (seed < cur && !__atomic_compare_exchange_n(stop_at, &cur, seed, 0, __ATOMIC_RELAXED,
	                                                  __ATOMIC_RELAXED))
		;
}

/* The run a worker is in, for the report when an assertion aborts it. */
static const struct sim_flags *abort_flags;
static struct sim_world *abort_world;
static uint64_t abort_seed;
static uint32_t abort_nodes;
static int abort_fd;
static struct sim_totals abort_totals;

static void on_abort(int sig)
{
	signal(sig, SIG_DFL);
	sim_check_fail(abort_world, "an assertion failed (see stderr above)");
	report(abort_flags, abort_world, abort_seed, abort_nodes);
	abort_totals.violations = 1;
	abort_totals.bad_seed = abort_seed;
	abort_totals.bad_nodes = abort_nodes;
	snprintf(abort_totals.what, sizeof(abort_totals.what), "%s", abort_world->check.what);
	stop_after(abort_flags->stop_at, abort_seed);
	if (write(abort_fd, &abort_totals, sizeof(abort_totals)) < 0)
		abort_fd = -1; /* the parent then reports a dead worker */
	raise(sig);
}

static void worker(const struct sim_flags *f, uint32_t job, int fd)
{
	struct sim_world *w = NULL;
	struct sim_totals t = {0};

	if (sim_world_new(&w) != 0) {
		fprintf(stderr, "sim: out of memory\n");
		_exit(2);
	}
	w->direct_checks = f->direct;
	/* One write per report, so two workers' reports never interleave. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	abort_flags = f;
	abort_fd = fd;
	abort_world = w;
	signal(SIGABRT, on_abort);
	for (uint64_t i = job; i < f->seeds; i += f->jobs) {
		uint64_t seed = f->seed + i;
		uint32_t nodes = nodes_for(f, seed);
		int bad;

		if (seed > __atomic_load_n(f->stop_at, __ATOMIC_RELAXED))
			break;
		abort_seed = seed;
		abort_nodes = nodes;
		bad = sim_world_run(w, seed, nodes);

		if (f->each)
			printf("seed %llu nodes %u: %llu steps, %llu ms, %llu trace records\n",
			       U(seed), nodes, U(w->steps), U(w->now_ms), U(w->trace.n));
		t.seeds++;
		t.sim_ms += w->now_ms;
		t.steps += w->steps;
		if (bad) {
			t.violations = 1;
			t.bad_seed = seed;
			t.bad_nodes = nodes;
			snprintf(t.what, sizeof(t.what), "%s", w->check.what);
			stop_after(f->stop_at, seed);
			/* A lower seed caught by another worker is the one to report. */
			if (__atomic_load_n(f->stop_at, __ATOMIC_RELAXED) == seed)
				report(f, w, seed, nodes);
			break;
		}
	}
	fflush(stdout); /* _exit below does not */
	t.stats = w->stats;
	sim_world_destroy(&w);
	if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		_exit(2);
	_exit(t.violations ? 1 : 0);
}

static void stats_add(struct sim_stats *a, const struct sim_stats *b)
{
	a->writes += b->writes;
	a->acks += b->acks;
	a->reads_ok += b->reads_ok;
	a->config_changes += b->config_changes;
	a->transfers += b->transfers;
	a->snapshots += b->snapshots;
	a->crashes += b->crashes;
	a->wipes += b->wipes;
	a->installs += b->installs;
	a->partitions += b->partitions;
	a->leaders += b->leaders;
	a->later_chunks += b->later_chunks;
	a->images += b->images;
	a->images_above += b->images_above;
	a->lost_applied += b->lost_applied;
	if (b->live_ms_max > a->live_ms_max)
		a->live_ms_max = b->live_ms_max;
}

static void stats_print(const struct sim_stats *s)
{
	printf(
	    "sim: exercised %llu writes (%llu acknowledged), %llu linearizable reads, %llu "
	    "leaders, %llu crashes, %llu wiped disks, %llu partitions, %llu config changes, %llu "
	    "transfers, %llu snapshots taken, %llu images for followers (%llu above the durable "
	    "index), %llu installed (%llu later chunks), %llu applied entries lost by crashes "
	    "(replayed); "
	    "liveness within %llu ms of healing (worst)\n",
	    U(s->writes), U(s->acks), U(s->reads_ok), U(s->leaders), U(s->crashes), U(s->wipes),
	    U(s->partitions), U(s->config_changes), U(s->transfers), U(s->snapshots), U(s->images),
	    U(s->images_above), U(s->installs), U(s->later_chunks), U(s->lost_applied),
	    U(s->live_ms_max));
}

/* Collects every worker's totals; stops the others at the first violation. */
static int collect(const struct sim_flags *f, pid_t *pids, int *fds, struct sim_totals *sum)
{
	struct pollfd p[SIM_JOBS_MAX];
	uint32_t open = (uint32_t)f->jobs;
	int failed = 0;

	for (uint32_t j = 0; j < f->jobs; j++)
		p[j] = (struct pollfd){.fd = fds[j], .events = POLLIN};
	while (open > 0) {
		if (poll(p, (nfds_t)f->jobs, -1) < 0 && errno != EINTR)
			return 1;
		for (uint32_t j = 0; j < f->jobs; j++) {
			struct sim_totals t;

			if (p[j].fd < 0 || !(p[j].revents & (POLLIN | POLLHUP)))
				continue;
			if (read(fds[j], &t, sizeof(t)) != (ssize_t)sizeof(t)) {
				memset(&t, 0, sizeof(t));
				/* it died without a word (its assertion report failed?) */
				failed = 1;
				t.violations = 1;
				t.bad_seed = UINT64_MAX;
				snprintf(t.what, sizeof(t.what), "worker %u died", j);
			}
			close(fds[j]);
			p[j].fd = -1;
			open--;
			sum->seeds += t.seeds;
			sum->sim_ms += t.sim_ms;
			sum->steps += t.steps;
			stats_add(&sum->stats, &t.stats);
			if (t.violations && (!sum->violations || t.bad_seed < sum->bad_seed)) {
				sum->bad_seed = t.bad_seed;
				sum->bad_nodes = t.bad_nodes;
				memcpy(sum->what, t.what, sizeof(t.what));
			}
			sum->violations += t.violations;
		}
	}
	for (uint32_t j = 0; j < f->jobs; j++)
		waitpid(pids[j], NULL, 0);
	return failed;
}

static int run(const struct sim_flags *f)
{
	pid_t pids[SIM_JOBS_MAX];
	int fds[SIM_JOBS_MAX];
	struct sim_totals sum = {0};
	struct timespec t0, t1;
	double wall;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(stdout);
	for (uint32_t j = 0; j < f->jobs; j++) {
		int pfd[2];

		if (pipe(pfd) != 0)
			return 2;
		pids[j] = fork();
		if (pids[j] < 0)
			return 2;
		if (pids[j] == 0) {
			close(pfd[0]);
			worker(f, j, pfd[1]);
		}
		close(pfd[1]);
		fds[j] = pfd[0];
	}
	collect(f, pids, fds, &sum);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (f->quiet && sum.violations)
		printf("%s: caught at seed %llu (%llu nodes): %s\n", f->name, U(sum.bad_seed),
		       U(sum.bad_nodes), sum.what);
	if (f->quiet && sum.violations == 0)
		printf("%s: NOT caught in %llu seeds\n", f->name, U(sum.seeds));
	if (f->stats)
		stats_print(&sum.stats);
	if (!f->quiet)
		printf("sim: %llu seeds, %llu violations, %.0f simulated s, %.0f steps/s\n",
		       U(sum.seeds), U(sum.violations), (double)sum.sim_ms / 1000.0,
		       wall > 0 ? (double)sum.steps / wall : 0.0);
	return sum.violations ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sim_flags f = {.prog = argv[0]};
	const struct kv_opt opts[] = {
	    {"seeds", KV_OPT_U64, &f.seeds, "2000", 1, 100000000, 0, "how many seeds to run"},
	    {"seed", KV_OPT_U64, &f.seed, "1", 0, UINT64_MAX / 2, 0, "the first seed"},
	    {"nodes", KV_OPT_U64, &f.nodes, "0", 0, 7, 0, "3, 5 or 7 nodes (0: a mix of 3 and 5)"},
	    {"jobs", KV_OPT_U64, &f.jobs, "2", 1, SIM_JOBS_MAX, 0, "worker processes"},
	    {"quiet", KV_OPT_BOOL, &f.quiet, "false", 0, 0, 0,
	     "print one line: the first seed that caught a violation"},
	    {"direct-checks", KV_OPT_BOOL, &f.direct, "true", 0, 0, 0,
	     "false: only the outcome properties (no figure 8 rule, no ack/vote-after-fsync)"},
	    {"each", KV_OPT_BOOL, &f.each, "false", 0, 0, 0,
	     "print one line per seed (steps, simulated ms): replays must match"},
	    {"stats", KV_OPT_BOOL, &f.stats, "false", 0, 0, 0,
	     "print what the seeds exercised before the summary"},
	    {"name", KV_OPT_STR, &f.name, "sim", 0, 0, 0, "the name printed in reports"},
	};
	enum kv_opts_result r = kv_opts_parse(opts, (int)(sizeof(opts) / sizeof(opts[0])), argc,
	                                      argv, "sim", "deterministic Raft simulator");

	if (r == KV_OPTS_HELP)
		return 0;
	if (r != KV_OPTS_OK)
		return 2;
	if (f.nodes != 0 && f.nodes != 3 && f.nodes != 5 && f.nodes != 7) {
		fprintf(stderr, "sim: --nodes must be 3, 5 or 7\n");
		return 2;
	}
	if (f.jobs > f.seeds)
		f.jobs = f.seeds;
	f.stop_at = mmap(NULL, sizeof(*f.stop_at), PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f.stop_at == MAP_FAILED) {
		fprintf(stderr, "sim: mmap: %s\n", strerror(errno));
		return 2;
	}
	*f.stop_at = UINT64_MAX;
	/* Cores are created on every boot: keep their big blocks in the heap, not fresh mmaps. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	return run(&f);
}
