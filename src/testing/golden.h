// Golden files: compare generated text (a job script, an argv rendering, a document)
// with a file checked in under test/data; with IL_UPDATE_GOLDEN=1 in the environment
// the file is rewritten instead, so an intended change is one command and a diff.
//
// Thread-safety: compare distinct files from concurrent tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace il::testing {

// True when IL_UPDATE_GOLDEN=1.
bool UpdatingGoldens();

// The file's bytes; empty when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

// Success when `actual` equals the golden file's contents (or when it was rewritten);
// a failure names the file and how to regenerate it. Use as
// EXPECT_TRUE(MatchesGolden(path, text)).
::testing::AssertionResult MatchesGolden(const std::filesystem::path& golden,
                                         const std::string& actual);

}  // namespace il::testing
