// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmmha/core/words.h"

#include <fmt/format.h>

namespace pmmha {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

bool IsOperator(char c) {
  switch (c) {
    case ';':
    case '|':
    case '&':
    case '<':
    case '>':
    case '(':
    case ')':
    case '`':
    case '$': return true;
    default: return false;
  }
}

Status Refuse(char c, std::size_t pos, std::string_view where) {
  return Status::NotConfigured(
      "'{}' {}at position {}: no shell runs these options, so shell "
      "syntax would not work; quote it with '...' to pass it literally",
      c, where, pos + 1);
}

}  // namespace

Result<std::vector<std::string>> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return Status::NotConfigured("unterminated ' quote at position {}", i + 1);
      }
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        char d = text[j];
        if (d == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\' || text[j + 1] == '$' ||
             text[j + 1] == '`')) {
          word += text[++j];
        } else if (d == '$' || d == '`') {
          return Refuse(d, j, "inside double quotes ");
        } else {
          word += d;
        }
      }
      if (j >= text.size()) {
        return Status::NotConfigured("unterminated \" quote at position {}", i + 1);
      }
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        return Status::NotConfigured("a trailing backslash escapes nothing");
      }
      word += text[++i];
    } else if (IsOperator(c)) {
      return Refuse(c, i, "");
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace pmmha
