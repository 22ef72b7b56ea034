// checks.go - what uidriver checks in the dashboard, in order (see main.go).
package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const waitUI = 20 * time.Second

type memberRow struct {
	ID     string   `json:"id"`
	Role   string   `json:"role"`
	Member string   `json:"member"`
	Lag    string   `json:"lag"`
	Cells  []string `json:"cells"`
}

// the members table's rows; head: its column names, so a check finds a column by name
const rowsExpr = `(() => { const head = [...document.querySelectorAll('#members thead th')].map(th => th.textContent);
	return [...document.querySelectorAll('#members tbody tr')].map(tr => ({id: tr.dataset.id,
	role: tr.dataset.role, member: tr.dataset.member, lag: tr.dataset.lag, learnerRow: tr.className === "learner",
	cells: [...tr.cells].map(td => td.textContent),
	col: Object.fromEntries(head.map((h, i) => [h, tr.cells[i] ? tr.cells[i].textContent : undefined]))})); })()`

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

func run(c *cdp, pageURL, token string, nodes, learners int, key, value, pagePrefix string, pageTotal int) error {
	if _, err := c.call("Page.navigate", map[string]interface{}{"url": pageURL}); err != nil {
		return err
	}
	if err := c.until("the page loads", `document.readyState === "complete" && !!document.getElementById("members")`, waitUI); err != nil {
		return err
	}
	fmt.Println("ok: /ui/ loaded in headless Chromium")
	if token != "" {
		if err := c.eval(`document.getElementById("token").value = `+js(token)+
			`; document.getElementById("token-save").click(); true`, nil); err != nil {
			return err
		}
		fmt.Println("ok: token typed into the token field")
	}
	// the recent changes start at the applied index when the watch first succeeds
	// (with the token): the put below must come after that
	if err := c.until("the recent-changes watch starts", `!!document.body.dataset.watchFrom`, waitUI); err != nil {
		return err
	}
	if err := checkMembers(c, nodes, learners); err != nil {
		return err
	}
	if err := checkPut(c, key, value); err != nil {
		return err
	}
	if pagePrefix != "" {
		if err := checkPages(c, pagePrefix, pageTotal); err != nil {
			return err
		}
	}
	if err := checkChanges(c, key); err != nil {
		return err
	}
	if err := checkDelete(c, key+"-deleted"); err != nil {
		return err
	}
	// for the screenshot: every key, and the members refreshed after the writes
	if err := c.eval(`document.getElementById("prefix").value = "";
		document.getElementById("search").click(); true`, nil); err != nil {
		return err
	}
	time.Sleep(2500 * time.Millisecond)
	return nil
}

// checkDelete puts key through the form, then deletes it with its row's button.
func checkDelete(c *cdp, key string) error {
	if err := checkPut(c, key, "to be deleted"); err != nil {
		return err
	}
	row := `[...document.querySelectorAll('#keys tbody tr')].find(tr => tr.dataset.key === ` + js(key) + `)`
	if err := c.eval(row+`.querySelector("button").click(); true`, nil); err != nil {
		return err
	}
	if err := c.until("the deleted key leaves the key browser",
		`!`+row+` && document.getElementById("put-result").textContent === "deleted " + `+js(key), waitUI); err != nil {
		return err
	}
	fmt.Printf("ok: deleted %q with its row's button\n", key)
	return nil
}

// checkMembers: every node's row, one leader; from the leader's view each
// row has a numeric match index and lag (the leader's last index minus the
// match), caught up and heard from, its peer address and gateway; learners
// rows are marked and say "learner", and a learner's own state is "learner".
func checkMembers(c *cdp, nodes, learners int) error {
	want := fmt.Sprintf(`(() => { const rows = %s, num = (v) => /^[0-9]+$/.test(v || "");
		return rows.length === %d && rows.filter(r => r.role === "leader").length === 1 &&
			rows.filter(r => r.member === "learner").length === %d &&
			rows.every(r => (r.member === "voter" ? r.role === "leader" || r.role === "follower" : r.role === "learner") && num(r.col.term) &&
				num(r.col.match) && num(r.lag) && r.col.lag === r.lag &&
				(r.col["caught up"] === "yes" || r.col["caught up"] === "no") &&
				r.col.heard === "yes" && /^127\.0\.0\.1:[0-9]+$/.test(r.col["peer address"]) &&
				/^https?:\/\//.test(r.col.gateway) && r.col.member === r.member &&
				(r.member === "voter" || r.member === "learner" && r.learnerRow)); })()`,
		rowsExpr, nodes, learners)
	if err := c.until(fmt.Sprintf("the members table shows every node (%d, %d learners), one leader, each lag", nodes, learners),
		want, waitUI); err != nil {
		var rows []memberRow
		c.eval(rowsExpr, &rows)
		return fmt.Errorf("%v; the table: %+v", err, rows)
	}
	var rows []memberRow
	if err := c.eval(rowsExpr, &rows); err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Printf("ok: members row (%s, lag %s): %s\n", r.Member, r.Lag, strings.Join(r.Cells, " | "))
	}
	return nil
}

func checkPut(c *cdp, key, value string) error {
	if err := c.eval(`document.getElementById("put-result").dataset.status = "";
		document.getElementById("put-result").textContent = "";
		document.getElementById("put-key").value = `+js(key)+
		`; document.getElementById("put-value").value = `+js(value)+
		`; document.getElementById("put-btn").click(); true`, nil); err != nil {
		return err
	}
	if err := c.until("the put is answered 200",
		`document.getElementById("put-result").dataset.status === "200"`, waitUI); err != nil {
		var text string
		c.eval(`document.getElementById("put-result").textContent`, &text)
		return fmt.Errorf("%v: %s", err, text)
	}
	var text string
	c.eval(`document.getElementById("put-result").textContent`, &text)
	fmt.Printf("ok: put through the page: %s\n", text)
	if err := c.eval(`document.getElementById("prefix").value = `+js(key)+
		`; document.getElementById("search").click(); true`, nil); err != nil {
		return err
	}
	row := `[...document.querySelectorAll('#keys tbody tr')].find(tr => tr.dataset.key === ` + js(key) + `)`
	if err := c.until("a prefix search for the key shows it with its value",
		`(() => { const tr = `+row+`; return !!tr && tr.cells[1].textContent === `+js(value)+`; })()`, waitUI); err != nil {
		return err
	}
	fmt.Println("ok: a prefix search in the key browser lists the key with its value")
	return nil
}

func checkPages(c *cdp, prefix string, total int) error {
	count := `document.querySelectorAll('#keys tbody tr').length`
	if err := c.eval(`document.getElementById("prefix").value = `+js(prefix)+
		`; document.getElementById("search").click(); true`, nil); err != nil {
		return err
	}
	first := total
	if first > 20 {
		first = 20
	}
	if err := c.until("the first page of the prefix",
		fmt.Sprintf(`%s === %d && [...document.querySelectorAll('#keys tbody tr')].every(tr => tr.dataset.key.startsWith(%s)) && !document.getElementById("next").disabled === %v`,
			count, first, js(prefix), total > 20), waitUI); err != nil {
		return err
	}
	fmt.Printf("ok: prefix search %q: first page of %d keys\n", prefix, first)
	if total <= 20 {
		return nil
	}
	if err := c.eval(`document.getElementById("next").click(); true`, nil); err != nil {
		return err
	}
	if err := c.until("the second page", fmt.Sprintf(`%s === %d && document.getElementById("page").textContent.startsWith("page 2")`,
		count, total-20), waitUI); err != nil {
		return err
	}
	fmt.Printf("ok: next page: the other %d keys\n", total-20)
	if err := c.eval(`document.getElementById("prev").click(); true`, nil); err != nil {
		return err
	}
	if err := c.until("back to the first page", fmt.Sprintf(`%s === %d && document.getElementById("page").textContent.startsWith("page 1")`, count, first), waitUI); err != nil {
		return err
	}
	fmt.Println("ok: prev page: back to the first")
	return nil
}

// checkChanges: the put shows among the recent changes (the watch API's long poll).
func checkChanges(c *cdp, key string) error {
	expr := `(() => { const li = [...document.querySelectorAll("#events li")].find(li =>
		li.textContent.includes(` + js(" put "+key+" = ") + `)); return li ? li.textContent : ""; })()`
	deadline := time.Now().Add(waitUI)
	for {
		var got string
		if err := c.eval(expr, &got); err == nil && got != "" {
			fmt.Printf("ok: recent changes (GET /v1/watch long poll): %s\n", got)
			return nil
		}
		if time.Now().After(deadline) {
			var note string
			c.eval(`document.getElementById("watch-note").textContent`, &note)
			return fmt.Errorf("recent changes do not show the put (note: %q)", note)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
