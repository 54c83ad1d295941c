// Command selfcheck is the reference HTTP-01 self check of the agreement tests: it does what
// cert-manager's controller does per check, with Go's own HTTP client, so that the tool's
// emulated "self check" verdict can be compared with the real thing.
//
// Written for kubectl-acmecheck's tests from a reading of cert-manager v1.21.1
// (pkg/issuer/acme/http/http.go, functions Check and testReachability); test-only, never shipped.
//
// Per check (testReachability):
//   - a new http.Transport each time: Proxy http.ProxyFromEnvironment, DisableKeepAlives,
//     MaxIdleConns 1, IdleConnTimeout 1 s, TLS InsecureSkipVerify; no DialContext (Go's zero
//     Dialer: RFC 6724 address order, dialSerial over one family with partialDeadline, Happy
//     Eyeballs to the other after 300 ms) unless nameservers are given, then a Dialer with a
//     3 s Timeout over DNS and connect whose pure-Go Resolver rotates over the servers per dial;
//   - an http.Client with Timeout 10 s and Go's default redirect policy;
//   - status 200, then the body read through io.LimitReader(1 MiB) and compared byte for byte.
//
// A round (Check) runs up to 5 checks and ends at the first failure, sleeping 2 s between
// checks. Every message is cert-manager's (v1.21.1 wording for a body mismatch).
//
// Output: one JSON line per round, {"round":N,"passes":K,"passed":bool,"error":"..."}, then
// {"rounds":R,"passed":M}.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxAcmeChallengeBodySize as in http.go.
const maxAcmeChallengeBodySize = 1024 * 1024

func main() {
	rawURL := flag.String("url", "", "the challenge URL, http://<dnsName>/.well-known/acme-challenge/<token>")
	key := flag.String("key", "", "the expected key authorization")
	rounds := flag.Int("rounds", 1, "rounds of the self check to run one after the other")
	checks := flag.Int("checks", 5, "checks per round (cert-manager's requiredPasses)")
	sleep := flag.Duration("sleep", 2*time.Second, "sleep between the checks of a round (cert-manager: 2s)")
	timeout := flag.Duration("timeout", 10*time.Second, "http.Client.Timeout (cert-manager: 10s)")
	nameservers := flag.String("nameservers", "", "comma-separated ip:port, as --acme-http01-solver-nameservers")
	userAgent := flag.String("user-agent", "cert-manager-challenges/v1.21.1 (linux/amd64) cert-manager/selfcheck", "User-Agent")
	flag.Parse()
	u, err := url.Parse(*rawURL)
	if err != nil || u.Host == "" {
		fmt.Fprintf(os.Stderr, "selfcheck: bad -url %q: %v\n", *rawURL, err)
		os.Exit(2)
	}
	var servers []string
	for _, s := range strings.Split(*nameservers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			servers = append(servers, s)
		}
	}
	out := json.NewEncoder(os.Stdout)
	passed := 0
	for r := 1; r <= *rounds; r++ {
		passes, err := check(u, *key, servers, *userAgent, *checks, *sleep, *timeout)
		line := map[string]any{"round": r, "passes": passes, "passed": err == nil, "error": ""}
		if err != nil {
			line["error"] = err.Error()
		} else {
			passed++
		}
		_ = out.Encode(line)
	}
	_ = out.Encode(map[string]any{"rounds": *rounds, "passed": passed})
}

// check is Solver.Check without Present: up to `required` checks, the first failure ends the
// round, `sleep` between checks. Returns the passes and the error that ended the round.
func check(u *url.URL, key string, servers []string, ua string, required int, sleep, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // HTTP01Timeout
	defer cancel()
	for i := 0; i < required; i++ {
		if err := testReachability(ctx, u, key, servers, ua, timeout); err != nil {
			return i, err
		}
		if i != required-1 {
			time.Sleep(sleep)
		}
	}
	return required, nil
}

// testReachability as in cert-manager's http.go (v1.21.1), the client timeout a parameter.
func testReachability(ctx context.Context, u *url.URL, key string, dnsServers []string, userAgent string, timeout time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent)
	transport := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DisableKeepAlives: true,
		MaxIdleConns:      1,
		IdleConnTimeout:   time.Second,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
	}
	if len(dnsServers) != 0 {
		transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			counter := 0
			dialer := &net.Dialer{
				Timeout: 3 * time.Second,
				Resolver: &net.Resolver{
					PreferGo: true,
					Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
						d := net.Dialer{Timeout: 3 * time.Second}
						s := dnsServers[counter%len(dnsServers)]
						counter++
						return d.DialContext(ctx, network, s)
					},
				},
			}
			return dialer.DialContext(ctx, network, addr)
		}
	}
	client := &http.Client{Transport: transport, Timeout: timeout}
	response, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("failed to perform self check GET request '%s': %v", u, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("wrong status code '%d', expected '%d'", response.StatusCode, http.StatusOK)
	}
	presentedKey, err := io.ReadAll(io.LimitReader(response.Body, maxAcmeChallengeBodySize))
	if err != nil {
		return fmt.Errorf("failed to read response body: %v", err)
	}
	if string(presentedKey) != key {
		keyToPrint := string(presentedKey)
		if len(keyToPrint) > 24 {
			keyToPrint = strings.TrimSpace(keyToPrint[:24]) + "... (truncated)"
		}
		return fmt.Errorf("did not get expected response when querying endpoint, expected %q but got: %s", key, keyToPrint)
	}
	return nil
}
