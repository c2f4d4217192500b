-- The inbox indexes hold only the tasks an inbox lists, with every task column it shows.
--
-- Partial: a task leaves `tasks_inbox` when it is claimed, completed or cancelled, instead of
-- staying in the index for ever under its final status. The index stays the size of the open
-- work, and completing a task no longer writes an index page among the closed tasks.
--
-- Covering: a page of an inbox is one ordered range of one index, with no lookup of each
-- task's row (`tasks` is clustered on `(case_id, task)`, so the lookup was a second B-tree
-- search per row).
DROP INDEX tasks_inbox;
CREATE INDEX tasks_inbox ON tasks
    (office, role, status, due, case_id, task, step, assigned_to, opened_at, breached)
    WHERE status = 'open';

DROP INDEX tasks_claimed;
CREATE INDEX tasks_claimed ON tasks
    (claimed_by, office, role, status, due, case_id, task, step, assigned_to, opened_at, breached)
    WHERE status = 'claimed';
