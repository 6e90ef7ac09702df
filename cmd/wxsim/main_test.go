package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as wxsim: with WXSIM_MAIN=1 it runs main with the arguments
// in WXSIM_ARGS, so the test exercises the real flag parsing and the ready line.
func TestMain(m *testing.M) {
	if os.Getenv("WXSIM_MAIN") == "1" {
		os.Args = append([]string{"wxsim"}, strings.Fields(os.Getenv("WXSIM_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestPrintsOneReadyLineWithTheBoundAddress(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "WXSIM_MAIN=1", "WXSIM_ARGS=-listen 127.0.0.1:0 -log-level disabled")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^wxsim listening on (http://127\.0\.0\.1:[1-9]\d*)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q", line)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(m[1] + "/_wxsim/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stats %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after interrupt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after interrupt")
	}
}
