// Command acmesolver is a test-only stand-in for cert-manager's HTTP-01 solver
// (quay.io/jetstack/cert-manager-acmesolver), written after reading
// cmd/acmesolver/app/app.go (NewACMESolverCommand: the flags) and
// pkg/issuer/acme/http/solver/solver.go (challengeHandler, parseHost) in
// github.com/cert-manager/cert-manager. It is this project's own code, built
// only by the tests (acmecheck_testkit::gobuild::build("acmesolver")); it is
// never shipped.
//
// Behaviour, as the real solver:
//   - flags --listen-port (default 8089), --domain, --token, --key;
//   - every method; "/" and "/healthz" (escaped path) answer 200 with an empty
//     body and "Cache-Control: no-cache, no-store, must-revalidate", before any
//     host check;
//   - path.Dir(escaped path) must be "/.well-known/acme-challenge", the Host
//     (port or IPv6 brackets stripped) must equal --domain exactly, and
//     path.Base(escaped path) must equal --token, else Go's http.NotFound
//     ("404 page not found");
//   - on a match: 200, the same Cache-Control header, the key with no newline;
//   - ReadHeaderTimeout 32 s; SIGTERM/SIGINT shut the server down (5 s grace);
//   - one log line per request on stderr in klog's text form, with the
//     messages the real solver logs ("validating request", "invalid base_path",
//     "invalid host", "invalid token", "got successful challenge request,
//     writing key", "responding OK to health check").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const challengePath = "/.well-known/acme-challenge"

type solver struct {
	port               int
	domain, token, key string
}

// logLine writes one klog-style text line: I<MMDD hh:mm:ss.uuuuuu> <pid> solver.go:<line>] "msg" key="value" ...
func logLine(line int, msg string, kv ...interface{}) {
	now := time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "I%s %7d solver.go:%d] %s logger=\"cert-manager.acmesolver\"",
		now.Format("0102 15:04:05.000000"), os.Getpid(), line, strconv.Quote(msg))
	for i := 0; i+1 < len(kv); i += 2 {
		var v string
		switch x := kv[i+1].(type) {
		case string:
			v = strconv.Quote(x)
		case int:
			v = strconv.Itoa(x)
		default:
			j, err := json.Marshal(x)
			if err != nil {
				j = []byte(strconv.Quote(fmt.Sprint(x)))
			}
			v = string(j)
		}
		fmt.Fprintf(&b, " %s=%s", kv[i], v)
	}
	b.WriteByte('\n')
	os.Stderr.WriteString(b.String())
}

// parseHost strips a port, else IPv6 brackets (solver.go parseHost).
func parseHost(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return strings.Trim(s, "[]")
}

func (s *solver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	host := parseHost(r.Host)
	basePath := path.Dir(escaped)
	token := path.Base(escaped)
	fields := []interface{}{"host", host, "path", escaped, "base_path", basePath, "token", token, "headers", r.Header}
	if escaped == "/" || escaped == "/healthz" {
		logLine(78, "responding OK to health check", fields...)
		w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
		w.WriteHeader(http.StatusOK)
		return
	}
	logLine(84, "validating request", fields...)
	if basePath != challengePath {
		logLine(87, "invalid base_path", append(fields, "expected_base_path", challengePath)...)
		http.NotFound(w, r)
		return
	}
	if s.domain != host {
		logLine(93, "invalid host", append(fields, "expected_host", s.domain)...)
		http.NotFound(w, r)
		return
	}
	if s.token != token {
		logLine(100, "invalid token", append(fields, "expected_token", s.token)...)
		http.NotFound(w, r)
		return
	}
	logLine(106, "got successful challenge request, writing key", fields...)
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, s.key)
}

func main() {
	s := &solver{}
	fs := flag.NewFlagSet("acmesolver", flag.ExitOnError)
	fs.IntVar(&s.port, "listen-port", 8089, "the port number to listen on for connections")
	fs.StringVar(&s.domain, "domain", "", "the domain name to verify")
	fs.StringVar(&s.token, "token", "", "the challenge token to verify against")
	fs.StringVar(&s.key, "key", "", "the challenge key to respond with")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	logLine(52, "starting listener", "expected_domain", s.domain, "expected_token", s.token, "expected_key", s.key, "listen_port", s.port)
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", s.port),
		Handler:           s,
		ReadHeaderTimeout: 32 * time.Second,
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "E%s %7d app.go:98] \"error running acmesolver\" err=%q\n",
			time.Now().Format("0102 15:04:05.000000"), os.Getpid(), err.Error())
		os.Exit(1)
	}
	<-done
}
