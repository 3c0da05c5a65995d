"""The action panel: how a duty officer or a leader acts on one case (交办, 转办, 吹哨, 上报, 下派, 督办),
on the case page, from ``/duty``'s selected row and from ``/overdue``'s rows. Not a screen: the screens
place it, the app registers its callbacks once."""
