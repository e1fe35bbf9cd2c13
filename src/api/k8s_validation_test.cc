#include "api/k8s_validation.h"

#include <gtest/gtest.h>

#include <string>

namespace il::api {
namespace {

namespace json = boost::json;

// A name of exactly n characters made of 63-character labels joined by dots, as the
// API server allows; `last` ends it so that two names can differ only at the end.
std::string LongName(size_t n, char last = 'z') {
  std::string s;
  while (s.size() < n) s += (s.size() % 64 == 63 && s.size() + 1 < n) ? '.' : 'a';
  s.back() = last;
  return s;
}

json::value Pod(const std::string& name) {
  return json::value{
      {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "0b7e6a4e-3f7c"}}},
      {"spec", {{"containers", json::array{json::object{{"name", "c"}, {"image", "x"}}}}}}};
}

TEST(K8sNames, LabelIsAtMost63LowerAlnumAndDashInside) {
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("0-a"));
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsLabel(""));
  EXPECT_FALSE(IsDnsLabel("-a"));
  EXPECT_FALSE(IsDnsLabel("a-"));
  EXPECT_FALSE(IsDnsLabel("A"));
  EXPECT_FALSE(IsDnsLabel("a.b"));
  EXPECT_FALSE(IsDnsLabel("a_b"));
}

TEST(K8sNames, SubdomainHasNoPerLabelLimitOnly253Total) {
  // Issue 13: a 65-character pod name without dots is valid (IsDNS1123Subdomain checks the
  // whole regex and the total length; it does not apply the label limit per part).
  EXPECT_TRUE(IsDnsSubdomain("multi-container-partial-fail-2a84afea-a1bb-486c-8855-29278af09010"));
  EXPECT_TRUE(IsDnsSubdomain(std::string(253, 'a')));
  EXPECT_FALSE(IsDnsSubdomain(std::string(254, 'a')));
  EXPECT_TRUE(IsDnsSubdomain(LongName(253)));
  EXPECT_TRUE(IsDnsSubdomain("a.b-c.d"));
  EXPECT_FALSE(IsDnsSubdomain("a..b"));
  EXPECT_FALSE(IsDnsSubdomain(".a"));
  EXPECT_FALSE(IsDnsSubdomain("a."));
  EXPECT_FALSE(IsDnsSubdomain("a-.b"));
  EXPECT_FALSE(IsDnsSubdomain("a/b"));
  EXPECT_FALSE(IsDnsSubdomain("Ab"));
}

TEST(K8sNames, QualifiedNameHasOptionalSubdomainPrefix) {
  EXPECT_TRUE(IsQualifiedName("app"));
  EXPECT_TRUE(IsQualifiedName("App_1.x-Y"));
  EXPECT_TRUE(IsQualifiedName("example.com/Foo"));
  EXPECT_TRUE(IsQualifiedName(std::string(253, 'a') + "/" + std::string(63, 'b')));
  EXPECT_FALSE(IsQualifiedName("a/" + std::string(64, 'b')));
  EXPECT_FALSE(IsQualifiedName(std::string(254, 'a') + "/b"));
  EXPECT_FALSE(IsQualifiedName("/a"));
  EXPECT_FALSE(IsQualifiedName("a/"));
  EXPECT_FALSE(IsQualifiedName("a/b/c"));
  EXPECT_FALSE(IsQualifiedName("Example.com/a"));
  EXPECT_FALSE(IsQualifiedName("_a"));
  EXPECT_FALSE(IsQualifiedName("a b"));
  EXPECT_FALSE(IsQualifiedName(""));
}

TEST(K8sNames, LabelValueMayBeEmpty) {
  EXPECT_TRUE(IsLabelValue(""));
  EXPECT_TRUE(IsLabelValue("v1.2_X-y"));
  EXPECT_TRUE(IsLabelValue(std::string(63, 'v')));
  EXPECT_FALSE(IsLabelValue(std::string(64, 'v')));
  EXPECT_FALSE(IsLabelValue("a/b"));
  EXPECT_FALSE(IsLabelValue("-a"));
}

TEST(K8sMeta, AnnotationKeysAreCheckedLowerCasedAndSizeIsBounded) {
  json::value a{{"Example.COM/Foo", "x"}, {"plain", ""}};
  EXPECT_TRUE(ValidateAnnotations(&a).ok());
  json::value bad{{"a b", "x"}};
  EXPECT_FALSE(ValidateAnnotations(&bad).ok());
  json::value big{{"k", std::string(kTotalAnnotationSizeLimit - 1, 'v')}};
  EXPECT_TRUE(ValidateAnnotations(&big).ok());
  big.as_object()["k"] = std::string(kTotalAnnotationSizeLimit, 'v');
  Status s = ValidateAnnotations(&big);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Too long"), std::string::npos);
  EXPECT_LT(s.message().size(), 200u);
  json::value not_string{{"k", 1}};
  EXPECT_FALSE(ValidateAnnotations(&not_string).ok());
  EXPECT_TRUE(ValidateAnnotations(nullptr).ok());
}

TEST(K8sMeta, LabelsNeedQualifiedKeysAndLabelValues) {
  json::value ok{{"app.kubernetes.io/name", "web"}, {"empty", ""}};
  EXPECT_TRUE(ValidateLabels(&ok, "metadata.labels").ok());
  json::value bad_value{{"app", std::string(64, 'v')}};
  EXPECT_FALSE(ValidateLabels(&bad_value, "metadata.labels").ok());
  json::value upper_prefix{{"Example.com/a", "v"}};  // labels are not lower-cased
  EXPECT_FALSE(ValidateLabels(&upper_prefix, "metadata.labels").ok());
  json::value list = json::array{};
  EXPECT_FALSE(ValidateLabels(&list, "metadata.labels").ok());
}

TEST(K8sPod, AcceptsEveryPodNameLengthTheApiServerAccepts) {
  for (size_t n : {1, 63, 64, 65, 200, 253}) {
    Status s = ValidatePod(Pod(LongName(n)));
    EXPECT_TRUE(s.ok()) << n << ": " << s.ToString();
    Status plain = ValidatePod(Pod(std::string(n, 'p')));
    EXPECT_TRUE(plain.ok()) << n << ": " << plain.ToString();
  }
  EXPECT_TRUE(
      ValidatePod(Pod("multi-container-partial-fail-2a84afea-a1bb-486c-8855-29278af09010")).ok());
  EXPECT_FALSE(ValidatePod(Pod(std::string(254, 'p'))).ok());
  EXPECT_FALSE(ValidatePod(Pod("Upper")).ok());
}

TEST(K8sPod, RejectsWhatTheApiServerRejects) {
  json::value p = Pod("ok");
  p.as_object()["metadata"].as_object()["namespace"] = std::string(64, 'n');
  EXPECT_FALSE(ValidatePod(p).ok());

  p = Pod("ok");
  auto& spec = p.as_object()["spec"].as_object();
  spec["initContainers"] = json::array{json::object{{"name", "c"}, {"image", "x"}}};
  EXPECT_FALSE(ValidatePod(p).ok()) << "container names are unique across init and app";

  p = Pod("ok");
  p.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["name"] =
      std::string(64, 'c');
  EXPECT_FALSE(ValidatePod(p).ok());

  p = Pod("ok");
  p.as_object()["spec"].as_object()["volumes"] =
      json::array{json::object{{"name", "v"}}, json::object{{"name", "v"}}};
  EXPECT_FALSE(ValidatePod(p).ok());

  p = Pod("ok");
  p.as_object()["spec"].as_object()["hostname"] = "a.b";
  EXPECT_FALSE(ValidatePod(p).ok());

  p = Pod("ok");
  p.as_object()["spec"].as_object()["nodeSelector"] = json::object{{"k", "a b"}};
  EXPECT_FALSE(ValidatePod(p).ok());

  p = Pod("ok");
  p.as_object()["metadata"].as_object()["labels"] = json::object{{"-k", "v"}};
  EXPECT_FALSE(ValidatePod(p).ok());
}

TEST(K8sPod, AcceptsLongLabelsAnnotationsAndMaximalNames) {
  json::value p = Pod(LongName(253));
  auto& meta = p.as_object()["metadata"].as_object();
  meta["namespace"] = std::string(63, 'n');
  meta["labels"] =
      json::object{{std::string(253, 'p') + "/" + std::string(63, 'k'), std::string(63, 'v')}};
  meta["annotations"] = json::object{{"Big.Example/Blob", std::string(size_t{200} * 1024, 'x')}};
  auto& spec = p.as_object()["spec"].as_object();
  spec["containers"].as_array()[0].as_object()["name"] = std::string(63, 'c');
  spec["volumes"] = json::array{json::object{{"name", std::string(63, 'v')}}};
  spec["hostname"] = std::string(63, 'h');
  Status s = ValidatePod(p);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace il::api
