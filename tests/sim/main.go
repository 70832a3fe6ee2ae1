// vimon-sim: govmomi's vSphere simulator with the additions vimon's tests need (see README.md).
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

type options struct {
	listen      string
	esx         bool
	dc          int
	cluster     int
	host        int
	standalone  int
	vm          int
	ds          int
	oddNames    bool
	tls         bool
	certOut     string
	parentWatch bool
	powerOn     bool
	strictAuth  bool
	gzip        bool
	verbose     bool
	churn       churnConfig
}

func parseFlags() *options {
	o := new(options)
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "listen address (loopback only; port 0 picks a free port)")
	flag.BoolVar(&o.esx, "esx", false, "simulate a standalone ESX host (apiType HostAgent) instead of vCenter")
	flag.IntVar(&o.dc, "dc", 1, "datacenters (vCenter only)")
	flag.IntVar(&o.cluster, "cluster", 1, "clusters per datacenter (vCenter only)")
	flag.IntVar(&o.host, "host", 3, "hosts per cluster (vCenter only)")
	flag.IntVar(&o.standalone, "standalone", 1, "standalone hosts per datacenter (vCenter only)")
	flag.IntVar(&o.vm, "vm", 2, "VMs per host")
	flag.IntVar(&o.ds, "ds", 1, "datastores (per datacenter, mounted on all its hosts)")
	flag.BoolVar(&o.oddNames, "odd-names", true, "add the VMs with odd names on the first host")
	flag.BoolVar(&o.tls, "tls", false, "serve HTTPS with a generated ECDSA P-256 self-signed certificate")
	flag.StringVar(&o.certOut, "cert-out", "", "with -tls: write the certificate (PEM) to this file")
	flag.BoolVar(&o.parentWatch, "parent-watch", false, "exit when the parent process goes away")
	flag.BoolVar(&o.powerOn, "poweron", true, "power on the generated VMs (the odd-name VMs stay powered off)")
	flag.BoolVar(&o.strictAuth, "strict-auth", true, "property collector calls without a session get a NotAuthenticated fault, as on a real server (see -lenient-auth)")
	lenient := flag.Bool("lenient-auth", false, "answer property collector calls without a session like the plain simulator (same as -strict-auth=false)")
	flag.BoolVar(&o.gzip, "gzip", true, "gzip SOAP replies when the request has Accept-Encoding: gzip, as vCenter does (-gzip=false: never)")
	flag.BoolVar(&o.verbose, "v", false, "let the simulator log to stderr")
	flag.BoolVar(&o.churn.Enabled, "churn", false, "change quickStats of powered-on VMs every -churn-interval seconds, like vCenter's refresh")
	flag.Float64Var(&o.churn.Interval, "churn-interval", 20, "seconds between churn batches")
	flag.Float64Var(&o.churn.Share, "churn-share", 1, "share (0..1) of the powered-on VMs changed in each churn batch")
	flag.Float64Var(&o.churn.EventsPerMin, "churn-events", 0, "power and question events per minute while churning")
	flag.Parse()
	if *lenient {
		o.strictAuth = false
	}
	if flag.NArg() != 0 {
		fatalf("unexpected argument %q", flag.Arg(0))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"dc", o.dc}, {"cluster", o.cluster}, {"host", o.host}, {"standalone", o.standalone}, {"vm", o.vm}, {"ds", o.ds}} {
		if n.v < 0 {
			fatalf("-%s must not be negative", n.name)
		}
	}
	if err := o.churn.check(); err != nil {
		fatalf("%v", err)
	}
	if (o.vm > 0 || o.oddNames) && o.ds < 1 {
		fatalf("-ds must be at least 1 when there are VMs")
	}
	return o
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "vimon-sim: "+format+"\n", args...)
	os.Exit(2)
}

// checkLoopback refuses listen addresses that are not loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to listen on %q: loopback addresses only", host)
	}
	return nil
}

// makeTempDir creates the directory the simulator writes its files to and points TMPDIR at it.
func makeTempDir() (string, error) {
	base := os.Getenv("TMPDIR")
	if base == "" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		} else {
			base = os.TempDir()
		}
	}
	dir, err := ioutil.TempDir(base, "vimon-sim-")
	if err != nil {
		return "", err
	}
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return "", err
	}
	return dir, nil
}

func main() {
	o := parseFlags()
	if err := checkLoopback(o.listen); err != nil {
		fatalf("%v", err)
	}
	if !o.verbose {
		log.SetOutput(ioutil.Discard)
	}

	tmp, err := makeTempDir()
	if err != nil {
		fatalf("temp dir: %v", err)
	}
	var model *simulator.Model
	var cleanupOnce sync.Once
	cleanup := func() {
		cleanupOnce.Do(func() {
			if model != nil {
				model.Remove()
			}
			_ = os.RemoveAll(tmp)
		})
	}
	die := func(format string, args ...interface{}) {
		cleanup()
		fatalf(format, args...)
	}

	// Signals and the parent watch are armed before the (possibly long) inventory build.
	stop := make(chan string, 2)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		s := <-sigs
		stop <- s.String()
	}()
	if o.parentWatch {
		ppid := os.Getppid()
		go func() {
			for range time.Tick(500 * time.Millisecond) {
				if os.Getppid() != ppid {
					stop <- "parent gone"
					return
				}
			}
		}()
	}
	built := make(chan error, 1)

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		die("listen: %v", err)
	}

	var sim *simState
	go func() {
		var err error
		model, sim, err = buildInventory(o)
		if sim != nil {
			sim.strictAuth = o.strictAuth
			sim.gzip = o.gzip
			sim.churn.cfg = o.churn
			go sim.runChurn()
		}
		built <- err
	}()
	select {
	case why := <-stop:
		_ = ln.Close()
		// The build goroutine may still write files; wait briefly for it so cleanup sees them.
		select {
		case <-built:
		case <-time.After(3 * time.Second):
		}
		cleanup()
		if why == "parent gone" {
			os.Exit(1)
		}
		os.Exit(0)
	case err := <-built:
		if err != nil {
			die("building the inventory: %v", err)
		}
	}

	scheme := "http"
	if o.tls {
		cert, sha256fp, sha1fp, pemBytes, err := makeCert()
		if err != nil {
			die("certificate: %v", err)
		}
		if o.certOut != "" {
			if err := ioutil.WriteFile(o.certOut, pemBytes, 0o644); err != nil {
				die("writing %s: %v", o.certOut, err)
			}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
		fmt.Printf("thumbprint-sha256 %s\n", sha256fp)
		fmt.Printf("thumbprint-sha1 %s\n", sha1fp)
	}

	port := ln.Addr().(*net.TCPAddr).Port
	host := ln.Addr().(*net.TCPAddr).IP.String()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	sim.setURL(&url.URL{Scheme: scheme, Host: host + ":" + strconv.Itoa(port), Path: "/sdk"})
	srv := &http.Server{Handler: sim, ErrorLog: log.New(ioutil.Discard, "", 0)}
	if o.verbose {
		srv.ErrorLog = log.New(os.Stderr, "vimon-sim: ", log.LstdFlags)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			fmt.Fprintf(os.Stderr, "vimon-sim: serve: %v\n", err)
			stop <- "serve failed"
		}
	}()
	fmt.Printf("ready %s://%s:%s/sdk\n", scheme, host, strconv.Itoa(port))

	why := <-stop
	_ = srv.Close()
	cleanup()
	if why == "parent gone" || why == "serve failed" {
		os.Exit(1)
	}
	os.Exit(0)
}
