#include "sidecars/slurm/shell.h"

#include <gtest/gtest.h>

#include <random>

#include "core/process.h"

namespace il::slurm {
namespace {

// Runs `printf %s <quoted>` in a real shell and returns what it printed.
std::string ThroughShell(const std::string& shell, const std::string& value) {
  PosixCommandRunner r;
  auto res = r.Run({shell, "-c", "printf %s " + ShellQuote(value)});
  EXPECT_TRUE(res.ok());
  EXPECT_EQ(res->exit_code, 0) << res->err;
  return res->out;
}

const std::vector<std::string>& Nasty() {
  static const std::vector<std::string> v = {
      "",
      "plain",
      "two words",
      "it's",
      "'",
      "''",
      "\"",
      "\\",
      "\\'",
      "$HOME",
      "${HOME}",
      "$(echo pwned)",
      "`echo pwned`",
      "a\nb",
      "\n",
      "trailing\n\n",
      "tab\there",
      "*",
      "?",
      "[a]",
      "~",
      "~root",
      "!",
      "!!",
      "a;b",
      "a&b",
      "a|b",
      "<x>",
      "#comment",
      "=",
      "A=b",
      "-n",
      "--",
      "\x01\x02\x7f",
      "\xc3\xa9t\xc3\xa9",
      "%s",
      "{a,b}",
      "a'b\"c$d`e\\f\ng",
      "$'\\n'",
      "\r\n",
      " leading and trailing ",
  };
  return v;
}

TEST(ShellQuote, LeavesPlainWordsAlone) {
  EXPECT_EQ(ShellQuote("abc"), "abc");
  EXPECT_EQ(ShellQuote("/usr/bin/env"), "/usr/bin/env");
  EXPECT_EQ(ShellQuote("--bind=/a:/b,c"), "'--bind=/a:/b,c'");
  EXPECT_EQ(ShellQuote("a-b_c.d@e%f+g:h,i/j"), "a-b_c.d@e%f+g:h,i/j");
}

TEST(ShellQuote, QuotesEverythingElse) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$x"), "'$x'");
  EXPECT_EQ(ShellQuote("A=b"), "'A=b'");
}

TEST(ShellQuote, RoundTripsNastyValuesThroughBashAndSh) {
  for (const auto& v : Nasty()) {
    EXPECT_EQ(ThroughShell("/bin/bash", v), v) << "value: " << v;
    EXPECT_EQ(ThroughShell("/bin/sh", v), v) << "value: " << v;
  }
}

TEST(ShellQuote, RoundTripsEveryByteThroughBash) {
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(ThroughShell("/bin/bash", all), all);
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    std::string s;
    for (int j = 0; j < 40; ++j) s.push_back(static_cast<char>(1 + rng() % 255));
    EXPECT_EQ(ThroughShell("/bin/bash", s), s);
  }
}

TEST(ShellJoin, KeepsWordBoundaries) {
  PosixCommandRunner r;
  std::vector<std::string> argv = {"a b", "", "c'd", "$e"};
  auto res = r.Run({"/bin/bash", "-c", "printf '[%s]' " + ShellJoin(argv)});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "[a b][][c'd][$e]");
}

TEST(ShellSplit, HonoursQuotesAndEscapes) {
  auto w = ShellSplit(R"(--time=10 -p gpu --job-name="my job" 'single $x' a\ b "q\"uote" "\n")");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::vector<std::string>{"--time=10", "-p", "gpu", "--job-name=my job",
                                          "single $x", "a b", "q\"uote", "\\n"}));
  EXPECT_EQ(*ShellSplit("  \t\n "), std::vector<std::string>{});
  EXPECT_EQ(*ShellSplit("''"), std::vector<std::string>{""});
}

TEST(ShellSplit, RejectsUnterminatedQuotes) {
  EXPECT_FALSE(ShellSplit("'open").ok());
  EXPECT_FALSE(ShellSplit("\"open").ok());
  EXPECT_FALSE(ShellSplit("trailing\\").ok());
}

TEST(ShellSplit, InvertsShellJoin) {
  for (const auto& v : Nasty()) {
    auto w = ShellSplit(ShellJoin({v, "x"}));
    ASSERT_TRUE(w.ok()) << v;
    EXPECT_EQ(*w, (std::vector<std::string>{v, "x"})) << v;
  }
}

TEST(ShellIdentifier, AcceptsOnlyAssignableNames) {
  EXPECT_TRUE(IsShellIdentifier("PATH"));
  EXPECT_TRUE(IsShellIdentifier("_a1"));
  EXPECT_FALSE(IsShellIdentifier("1a"));
  EXPECT_FALSE(IsShellIdentifier("a.b"));
  EXPECT_FALSE(IsShellIdentifier(""));
}

}  // namespace
}  // namespace il::slurm
