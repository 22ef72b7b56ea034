/*
 * ctl_table.c - raftkvctl's commands, one row each. To add a command, write
 * its handler in the file of its group (a new ctl_<group>.c with its header)
 * and add one row here; `raftkvctl --help` and `raftkvctl NAME --help` list it.
 */
#include "ctl.h"

#include "ctl_coord.h"
#include "ctl_keygen.h"
#include "ctl_kv.h"
#include "ctl_member.h"
#include "ctl_snapshot.h"
#include "ctl_status.h"
#include "ctl_watch.h"

#include <stddef.h>

const struct ctl_cmd ctl_cmds[] = {
    {"get", "KEY",
     "Prints the value of KEY (a linearizable read). --output json prints "
     "{\"key\",\"value\",\"create_index\",\"mod_index\"} (the value in base64 with "
     "\"encoding\":\"base64\" when it is not UTF-8). Exit 1 when the key does not exist.",
     ctl_kv_get, 1},
    {"put", "[--if-match MOD_INDEX | --if-absent] KEY VALUE",
     "Sets KEY to VALUE (VALUE - reads it from stdin, at most 64 MiB). --if-match writes only "
     "if the key's mod_index is MOD_INDEX, --if-absent only if the key does not exist; exit 1 "
     "when the condition fails. Prints the new mod_index.",
     ctl_kv_put, 1},
    {"delete", "[--if-match MOD_INDEX] KEY",
     "Deletes KEY. Exit 1 when it does not exist or the condition fails.", ctl_kv_delete, 1},
    {"list", "[--keys-only] [--limit N] [--page-size N] [PREFIX]",
     "Prints every key starting with PREFIX (all keys without one) in byte order, one "
     "\"KEY<TAB>VALUE\" line each (\"base64:\" before a key and value that are not UTF-8), "
     "fetching page after page (--page-size keys each, at most and by default 1000). --limit stops "
     "after N keys. --output json prints {\"items\":[...]} with the gateway's items.",
     ctl_kv_list, 1},
    {"status", "",
     "Prints a node's view of the cluster: its role and term, the leader, the commit and "
     "applied indexes and the members (GET /v1/status; --output json prints it as it is).",
     ctl_status_status, 1},
    {"ready", "",
     "Asks the first endpoint only whether it can serve (/readyz): exit 0 when ready, 1 when "
     "it answers that it is not, 3 when it does not answer. Needs no token: the health probe "
     "of the container image.",
     ctl_status_ready, 1},
    {"live", "",
     "Asks the first endpoint only whether its gateway process answers (/livez); exit codes "
     "as ready.",
     ctl_status_live, 1},
    {"metrics", "",
     "Prints a node's metrics in the Prometheus text format (GET /metrics; with tokens on, an "
     "admin token), in either output mode.",
     ctl_status_metrics, 1},
    {"watch", "[--prefix] [--from INDEX] [--count N] KEY",
     "Prints the changes of KEY (with --prefix: of every key starting with KEY; --prefix \"\" "
     "for all keys) as the cluster applies them, one \"MOD_INDEX<TAB>put<TAB>KEY<TAB>VALUE\" "
     "or \"MOD_INDEX<TAB>delete<TAB>KEY\" line each (\"base64:\" before a key and value that "
     "are not UTF-8; --output json prints each change's object). Starts with the next change, "
     "or at --from INDEX; fails over between endpoints without missing or repeating a change; "
     "stops after --count changes. Exit 1 when INDEX is older than the history kept (410).",
     ctl_watch, 1},
    {"lease", "grant TTL_MS | keepalive ID | revoke ID",
     "grant: a lease of TTL_MS (2000 to 3600000), prints its id. keepalive: renews it, prints "
     "{\"id\",\"ttl_ms\",\"remaining_ms\"}. revoke: ends it and deletes its keys. Exit 1 when "
     "the lease does not exist (lease_not_found).",
     ctl_coord_lease, 1},
    {"txn", "",
     "Reads a transaction from stdin (POST /v1/txn's JSON: compare, success, failure; at most "
     "4 MiB) and prints the answer. Exit 0 when the success branch ran, 1 when the failure "
     "branch did (or the transaction was refused), 2 for a malformed transaction.",
     ctl_coord_txn, 1},
    {"lock", "[--ttl MS] NAME -- COMMAND [ARGS...]",
     "Runs COMMAND while holding the lock NAME ([A-Za-z0-9._-], the key locks/NAME), built on "
     "a lease (TTL 10000 ms by default) and a transaction: waits while another holder has it, "
     "sets RAFTKV_LOCK_TOKEN (the lock's mod_index, a fencing token), keeps the lease alive, "
     "and stops COMMAND (SIGTERM, then SIGKILL) and exits 1 if the lock is lost. Exits with "
     "COMMAND's code and releases the lock when COMMAND ends.",
     ctl_lock, 1},
    {"member",
     "list | add ID PEER URL [--learner] [--curve-key Z85] | promote ID | remove ID [--force]",
     "list: every member with its role, peer address, URL, and from the leader's view its match "
     "index, whether it caught up and whether it is live (heard from lately) (GET /v1/members). "
     "add: adds node ID, whose raftd listens "
     "on PEER (host:port) and whose gateway is URL (http(s)://host:port), as a learner that the "
     "leader promotes to voter once it has caught up; --learner keeps it a learner (a read "
     "replica), --curve-key gives its CurveZMQ public key when peers use Curve (POST "
     "/v1/members). promote: makes caught-up learner ID a voter (POST /v1/members/ID/promote). "
     "remove: removes member ID through the leader, which hands leadership over first when it "
     "is the one removed (DELETE /v1/members/ID); it is refused (would_lose_quorum) when fewer "
     "live "
     "voters than a quorum of the new configuration would remain, unless --force. Each answers "
     "once the change is committed; "
     "the changes need an admin token when tokens are on. Exit 1 when the cluster refuses "
     "(member_exists, member_not_found, not_caught_up, change_in_progress, last_voter, "
     "would_lose_quorum), 2 for "
     "a bad id, address, URL or key, or a promote of a voter.",
     ctl_member, 1},
    {"snapshot", "save FILE | restore FILE --data-dir DIR --node-id N --peers SPEC",
     "save: streams a backup of the first endpoint's database (GET /v1/snapshot, an admin "
     "token with tokens on) into FILE, with FILE.crc32c (checksum, size, Raft index and term); "
     "progress on stderr. restore: checks FILE against FILE.crc32c and prepares the empty data "
     "directory DIR of node N of a new cluster whose raftd --peers is SPEC, so that it starts "
     "with exactly the backup's data; run it for every node with the same FILE and SPEC.",
     ctl_snapshot_run, 0},
    {"keygen", "[--out DIR]",
     "Makes a CurveZMQ key pair for one raftd: DIR/curve.key (secret, mode 0600) and "
     "DIR/curve.pub (DIR defaults to .), and prints the public key. Never overwrites a key.",
     ctl_keygen, 0},
    {NULL, NULL, NULL, NULL, 0},
};
