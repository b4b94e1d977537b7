package dbtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
	"nbhd/data/ingest"
	"nbhd/data/sample"
)

// Cluster is a throwaway PostgreSQL cluster of a test's own, for tests
// that stop, freeze or crash the database: those must never touch the
// cluster every other test shares. It listens on 127.0.0.1 on a free port
// and on a unix socket in its directory, logs to a file the test can read,
// and is stopped and removed when the test ends. As root, its processes run
// as the postgres user (PostgreSQL refuses root), as scripts/pg.sh does.
type Cluster struct {
	Port int
	// LogFile is the server's log.
	LogFile string
	dir     string
	bin     string
	owner   *user.User // set when running as root
}

// NewCluster initialises and starts a cluster with the newest installed
// PostgreSQL. Without PostgreSQL's binaries the test fails under CI and is
// skipped otherwise, like every database test.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		unavailable(t, fmt.Errorf("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/pg.sh installs them)"))
	}
	sort.Slice(bins, func(i, j int) bool { return versionOf(bins[i]) < versionOf(bins[j]) })
	c := newClusterDir(t, filepath.Dir(bins[len(bins)-1]))
	if out, err := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Port = freePort(t)
	c.Start(t)
	return c
}

// newClusterDir makes a cluster's directory, owned by the postgres user
// when root, and removes it (stopping the cluster) when the test ends.
func newClusterDir(t testing.TB, bin string) *Cluster {
	t.Helper()
	c := &Cluster{bin: bin}
	// Under /tmp with a short name: the socket path must stay under ~100
	// bytes, and the postgres user must reach it.
	dir, err := os.MkdirTemp("", "nbhd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	c.LogFile = filepath.Join(dir, "postgres.log")
	t.Cleanup(func() {
		c.thaw()
		_, _ = c.stop("immediate")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		if c.owner, err = user.Lookup("postgres"); err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(c.owner.Uid)
		gid, _ := strconv.Atoi(c.owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// NewStandby makes a streaming hot standby of c (pg_basebackup -R, as
// scripts/pg.sh replica does) on a port of its own, starts it and returns
// it. Databases made in c afterwards reach it by replication; its URL
// serves reads only. It is stopped and removed when the test ends, before
// c is.
func (c *Cluster) NewStandby(t testing.TB) *Cluster {
	t.Helper()
	sb := newClusterDir(t, c.bin)
	if out, err := sb.command("pg_basebackup", "-D", sb.dataDir(), "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres",
		"-R", "-X", "stream", "-c", "fast", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	sb.Port = freePort(t)
	sb.Start(t)
	return sb
}

// versionOf reads the major version from /usr/lib/postgresql/N/bin/initdb.
func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// command runs a PostgreSQL program as the cluster's owner.
func (c *Cluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.owner != nil {
		return exec.Command("runuser", append([]string{"-u", c.owner.Username, "--", path}, args...)...) //nolint:noctx // a test's own cluster
	}
	return exec.Command(path, args...) //nolint:noctx // a test's own cluster
}

// Start starts the cluster (again) and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off "+
		"-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB -c jit=off", c.Port, c.dir)
	if out, err := c.command("pg_ctl", "-D", c.dataDir(), "-l", c.LogFile, "-w", "-t", "60", "-o", opts, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(c.LogFile)
		t.Fatalf("start PostgreSQL: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the cluster (fast mode: connections are terminated).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if out, err := c.stop("fast"); err != nil {
		t.Fatalf("stop PostgreSQL: %v\n%s", err, out)
	}
}

func (c *Cluster) stop(mode string) ([]byte, error) {
	return c.command("pg_ctl", "-D", c.dataDir(), "-m", mode, "-w", "stop").CombinedOutput()
}

// URL is the admin URL of a database in the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// NewDatabase creates a migrated database, with the bundled sample loaded
// when withSample, and returns its URL.
func (c *Cluster) NewDatabase(t testing.TB, name string, withSample bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := data.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if withSample {
		if err := ingest.LoadSample(ctx, conn, sample.FS, sample.Dir, data.LockWait{}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c.URL(name)
}

// PIDs are the cluster's processes: the postmaster and its children.
func (c *Cluster) PIDs(t testing.TB) []int {
	t.Helper()
	pids, err := c.pids()
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

func (c *Cluster) pids() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir(), "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("cluster not running: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %q", first)
	}
	pids := []int{pm}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
		i := bytes.LastIndexByte(st, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(st[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pm) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Signal sends sig to every process of the cluster: SIGSTOP freezes the
// database as a stalled host would, SIGCONT thaws it.
func (c *Cluster) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	for _, pid := range c.PIDs(t) {
		if err := syscall.Kill(pid, sig); err != nil && err != syscall.ESRCH { //nolint:errorlint // syscall errno
			t.Fatalf("signal %d to %d: %v", sig, pid, err)
		}
	}
}

// thaw continues every process of the cluster, best effort, so that a
// test failing while the cluster is frozen can still stop it.
func (c *Cluster) thaw() {
	pids, _ := c.pids()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// Log is the server's log so far.
func (c *Cluster) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(c.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
