#include "sidecars/slurm/sbatch_flags.h"

#include <gtest/gtest.h>

namespace il::slurm {
namespace {

std::vector<std::vector<std::string>> Words(const std::vector<SbatchFlag>& f) {
  std::vector<std::vector<std::string>> out;
  for (const auto& x : f) out.push_back(x.words);
  return out;
}

TEST(SbatchFlags, GluesValuesToTheirOption) {
  auto f = ParseFlagAnnotation("-p geant4 --time=10 --job-name=\"my job\" -A acct");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Words(*f),
            (std::vector<std::vector<std::string>>{
                {"-p", "geant4"}, {"--time=10"}, {"--job-name=my job"}, {"-A", "acct"}}));
}

TEST(SbatchFlags, RejectsLineBreaksAndLeadingValues) {
  EXPECT_FALSE(ParseFlagAnnotation("--comment='a\nb'").ok());
  EXPECT_FALSE(ParseFlagAnnotation("--comment=\"x\r\"").ok());
  EXPECT_FALSE(ParseFlagAnnotation("value --time=1").ok());
  EXPECT_FALSE(ParseFlagAnnotation("--time='1").ok());
}

TEST(SbatchFlags, KeysResolveShortAliases) {
  EXPECT_EQ(OptionKey({{"-p", "x"}}), "partition");
  EXPECT_EQ(OptionKey({{"-pdebug"}}), "partition");
  EXPECT_EQ(OptionKey({{"--partition=x"}}), "partition");
  EXPECT_EQ(OptionKey({{"-t", "5"}}), "time");
  EXPECT_EQ(OptionKey({{"--exclusive"}}), "exclusive");
  EXPECT_EQ(OptionKey({{"--gres=gpu:2"}}), "gres-gpu");
  EXPECT_EQ(OptionKey({{"--gres=nic:1"}}), "gres");
}

TEST(SbatchFlags, LaterLayersReplaceAndExclude) {
  std::vector<SbatchFlag> base = {
      {{"--partition=a"}}, {{"--mem=100M"}}, {{"--gres=gpu:1"}}, {{"--cpus-per-task=2"}}};
  MergeFlags(base, {{{"-p", "b"}}, {{"--mem-per-cpu=1G"}}, {{"--gpus=2"}}, {{"--exclusive"}}});
  EXPECT_EQ(Words(base), (std::vector<std::vector<std::string>>{{"--cpus-per-task=2"},
                                                                {"-p", "b"},
                                                                {"--mem-per-cpu=1G"},
                                                                {"--gpus=2"},
                                                                {"--exclusive"}}));
}

TEST(SbatchFlags, RendersWordsQuotedForSbatch) {
  EXPECT_EQ(RenderSbatchLine({{"--time=10"}}), "#SBATCH --time=10");
  EXPECT_EQ(RenderSbatchLine({{"-p", "gpu"}}), "#SBATCH -p gpu");
  EXPECT_EQ(RenderSbatchLine({{"--comment=a \"b\" \\c"}}),
            "#SBATCH \"--comment=a \\\"b\\\" \\\\c\"");
}

}  // namespace
}  // namespace il::slurm
