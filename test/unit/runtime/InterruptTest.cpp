//===- InterruptTest.cpp - the first signal asks, the second insists ------===//
//
// Signals are raised by the thread under test, so each arrives before raise()
// returns: no timing is involved. (Sent from another process to a
// multi-threaded train, two signals may be taken by two threads in either
// order, which no test of a whole process can pin down.)
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Interrupt.h"

#include <gtest/gtest.h>

#include <csignal>

#include <sys/wait.h>
#include <unistd.h>

using namespace resnetrt;

TEST(InterruptTest, TheFirstSignalIsARequestToStop) {
  InterruptScope scope;
  EXPECT_FALSE(interruptRequested());
  raise(SIGTERM);
  EXPECT_TRUE(interruptRequested());
  EXPECT_EQ(interruptedStatus(), 128 + SIGTERM);
  EXPECT_EQ(interruptName(), "SIGTERM");
}

TEST(InterruptTest, EachScopeStartsAfresh) {
  {
    InterruptScope scope;
    raise(SIGHUP);
    EXPECT_TRUE(interruptRequested());
  }
  InterruptScope scope;
  EXPECT_FALSE(interruptRequested());
}

TEST(InterruptTest, TheScopeRestoresThePreviousHandlers) {
  struct sigaction ignore {}, before {}, after {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGHUP, &ignore, &before), 0);
  { InterruptScope scope; }
  ASSERT_EQ(sigaction(SIGHUP, &before, &after), 0);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
}

TEST(InterruptTest, ASecondSignalEndsTheProcessAtOnce) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    InterruptScope scope;
    raise(SIGTERM);
    if (!interruptRequested())
      _exit(1);
    raise(SIGINT); // ends the process with 128 + SIGINT
    _exit(2);
  }
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
}
